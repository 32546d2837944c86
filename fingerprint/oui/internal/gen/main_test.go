package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ieeeData is where Debian's ieee-data package installs the registry files,
// the folder the go:generate line in oui.go reads.
const ieeeData = "/usr/share/ieee-data"

// TestUpToDate regenerates the table from the installed ieee-data into a
// temporary folder and compares it with the committed table_gen.go.
func TestUpToDate(t *testing.T) {
	if _, err := os.Stat(filepath.Join(ieeeData, "oui.csv")); err != nil {
		t.Skipf("ieee-data not installed (%v); install Debian's ieee-data package to check table_gen.go", err)
	}
	out := filepath.Join(t.TempDir(), "table_gen.go")
	if err := run([]string{"-in", ieeeData, "-out", out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "table_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Errorf("table_gen.go is not what the installed ieee-data generates (%d bytes vs %d committed); run `go generate ./fingerprint/oui` and commit", len(got), len(committed))
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Intel Corporate", "Intel Corporate"},
		{"  Shenzhen  Zhi Hua  Creative Technology  Co., Ltd. ", "Shenzhen Zhi Hua Creative Technology Co., Ltd."},
		{"Foo\tBar\u00a0Baz\u3000Qux\u2002End", "Foo Bar Baz Qux End"},
		{"Zero\u200bWidth\u200e Mark\u00ad", "ZeroWidth Mark"},
		{"Bad\xffUTF8", "BadUTF8"},
		{"Müller & Söhne GmbH", "Müller & Söhne GmbH"},
		{"PRIVATE", "Private"},
		{" private ", "Private"},
		{"Private Networks Ltd", "Private Networks Ltd"},
		{"COMMISSARIAT A L`ENERGIE ATOM.", "COMMISSARIAT A L`ENERGIE ATOM."},
		{" \t ", ""},
	}
	for i, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("Test %d: expected %q, got %q", i, tt.want, got)
		}
	}
}

func TestMerge(t *testing.T) {
	got := merge([]assignment{
		{0x080030, "NETWORK RESEARCH CORPORATION"},
		{0x000000, "XEROX CORPORATION"},
		{0x080030, "CERN"},
		{0x080030, "CERN"},
	})
	want := []assignment{
		{0x000000, "XEROX CORPORATION"},
		{0x080030, "CERN / NETWORK RESEARCH CORPORATION"},
	}
	if len(got) != len(want) {
		t.Fatalf("expected %v, got %v", want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Test %d: expected %v, got %v", i, want[i], got[i])
		}
	}
}

// writeData writes a minimal ieee-data folder, replacing one file's body.
func writeData(t *testing.T, file, body string) string {
	t.Helper()
	dir := t.TempDir()
	head := "Registry,Assignment,Organization Name,Organization Address\n"
	files := map[string]string{
		"oui.csv":     head + "MA-L,001B21,Intel Corporate,\"Lot 8, Jalan Hi-Tech 2/3 Kulim Kedah MY 09000 \"\n",
		"mam.csv":     head + "MA-M,50A0308,GE Medical System China Co. Ltd.,No. 19 ChangJiang Road\n",
		"oui36.csv":   head + "MA-S,70B3D5950,CMT Medical technologies,Hacarmel 7/2 Yoqneam  IL 20692 \n",
		"iab.csv":     head + "IAB,0050C27D5,DEUTA-WERKE GmbH,Paffrather Strasse 140\n",
		".lastupdate": "1661630937\n",
	}
	if file != "" {
		files[file] = body
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGenerate(t *testing.T) {
	src, err := generate(writeData(t, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`const registryDate = "2022-08-27"`,
		"CMT Medical technologies\nDEUTA-WERKE GmbH\nGE Medical System China Co. Ltd.\nIntel Corporate\n`",
		// Intel Corporate is the fourth name, at offset 25+17+33 = 0x4b;
		// an MA-L entry is 24+24 bits, 12 hex digits.
		"var ma24 = [...]uint64{\n\t0x001b2100004b,\n}",
		// IAB and MA-S share the 36-bit table; DEUTA-WERKE is at offset 25.
		"var ma36 = [...]uint64{\n\t0x0050c27d5000019, 0x70b3d5950000000,\n}",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	head := "Registry,Assignment,Organization Name,Organization Address\n"
	tests := []struct {
		file, body, want string
	}{
		{"oui.csv", "Registry,Prefix,Name\nMA-L,001B21,Intel Corporate,\n", "unexpected header"},
		{"oui.csv", head + "MA-M,001B21,Intel Corporate,\n", `registry "MA-M", want "MA-L"`},
		{"oui.csv", head + "MA-L,001B2,Intel Corporate,\n", "not 6 hex digits"},
		{"oui.csv", head + "MA-L,00XB21,Intel Corporate,\n", "invalid syntax"},
		{"oui.csv", head + "MA-L,001B21,  ,\n", "empty organisation name"},
		{"oui.csv", head, "no assignments"},
		{"mam.csv", head + "MA-M,50A0308,\"GE Medical,\n", "extraneous or missing"},
		{".lastupdate", "yesterday\n", ".lastupdate"},
	}
	for i, tt := range tests {
		_, err := generate(writeData(t, tt.file, tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Test %d (%s): expected an error containing %q, got %v", i, tt.file, tt.want, err)
		}
	}
	if _, err := generate(t.TempDir()); err == nil {
		t.Error("expected an error for a folder without registry files")
	}
}
