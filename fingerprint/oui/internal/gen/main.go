// Command gen builds fingerprint/oui's vendor table from the IEEE
// Registration Authority's registry files as Debian's ieee-data package
// ships them (oui.csv for MA-L, mam.csv for MA-M, oui36.csv for MA-S and
// iab.csv for the legacy IAB blocks, which are 36-bit like MA-S).
//
// Usage (from fingerprint/oui, via go generate):
//
//	go run ./internal/gen -in /usr/share/ieee-data -out table_gen.go
//
// The output is Go source: three sorted arrays of uint64 entries, one per
// prefix length, each entry holding prefix<<24 | offset, where offset points
// at the vendor's name in one newline-separated, deduplicated name blob.
// The output depends only on the input files, so regenerating from the same
// data gives the same bytes.
package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// source is one registry file of the ieee-data package.
type source struct {
	file     string // file name in the ieee-data folder
	registry string // value of the Registry column
	digits   int    // hex digits of the Assignment column
}

// sources are read in this order; the prefix length of an entry is
// 4*digits bits.
var sources = []source{
	{"oui.csv", "MA-L", 6},
	{"mam.csv", "MA-M", 7},
	{"oui36.csv", "MA-S", 9},
	{"iab.csv", "IAB", 9},
}

// offsetBits is how many low bits of an entry hold the name offset.
const offsetBits = 24

// privateName is what the registry publishes instead of an organisation's
// name when the organisation asked for it to be withheld.
const privateName = "Private"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	in := fs.String("in", "/usr/share/ieee-data", "folder holding the ieee-data registry files")
	out := fs.String("out", "table_gen.go", "Go file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := generate(*in)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}

// assignment is one registry row after normalisation.
type assignment struct {
	prefix uint64
	name   string
}

// table is everything read from the registry files.
type table struct {
	byBits map[int][]assignment // 24, 28, 36
	rows   map[string]int       // rows read per file
	date   string               // registry date, YYYY-MM-DD, or ""
}

// generate reads the registry files in dir and returns the formatted Go
// source of the table.
func generate(dir string) ([]byte, error) {
	t, err := load(dir)
	if err != nil {
		return nil, err
	}
	return render(t)
}

func load(dir string) (*table, error) {
	t := &table{byBits: map[int][]assignment{}, rows: map[string]int{}}
	for _, s := range sources {
		rows, err := readCSV(filepath.Join(dir, s.file), s)
		if err != nil {
			return nil, err
		}
		t.rows[s.file] = len(rows)
		bits := 4 * s.digits
		t.byBits[bits] = append(t.byBits[bits], rows...)
	}
	for bits, as := range t.byBits {
		t.byBits[bits] = merge(as)
	}
	date, err := registryDate(dir)
	if err != nil {
		return nil, err
	}
	t.date = date
	return t, nil
}

// readCSV reads one registry file: a header line, then
// Registry,Assignment,Organization Name,Organization Address rows.
func readCSV(path string, s source) ([]assignment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if len(head) < 3 || head[0] != "Registry" || head[1] != "Assignment" || head[2] != "Organization Name" {
		return nil, fmt.Errorf("%s: unexpected header %q", path, head)
	}
	var out []assignment
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) < 3 {
			return nil, fmt.Errorf("%s:%d: %d fields, want at least 3", path, line, len(rec))
		}
		if rec[0] != s.registry {
			return nil, fmt.Errorf("%s:%d: registry %q, want %q", path, line, rec[0], s.registry)
		}
		if len(rec[1]) != s.digits {
			return nil, fmt.Errorf("%s:%d: assignment %q is not %d hex digits", path, line, rec[1], s.digits)
		}
		p, err := strconv.ParseUint(rec[1], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: assignment %q: %w", path, line, rec[1], err)
		}
		name := normalize(rec[2])
		if name == "" {
			return nil, fmt.Errorf("%s:%d: empty organisation name", path, line)
		}
		out = append(out, assignment{prefix: p, name: name})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no assignments", path)
	}
	return out, nil
}

// normalize cleans an organisation name lightly: invalid UTF-8, control
// and invisible format characters (zero-width space, soft hyphen,
// direction marks) are dropped, runs of white space (including no-break
// and ideographic spaces) become one space, the ends are trimmed, and any
// spelling of "private" becomes privateName. Capitalisation is kept.
func normalize(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if strings.EqualFold(s, privateName) {
		return privateName
	}
	return s
}

// merge sorts assignments by prefix and folds the few prefixes the
// registry lists more than once into one entry whose name joins the
// distinct names, sorted, with " / ".
func merge(as []assignment) []assignment {
	sort.Slice(as, func(i, j int) bool {
		if as[i].prefix != as[j].prefix {
			return as[i].prefix < as[j].prefix
		}
		return as[i].name < as[j].name
	})
	var out []assignment
	for i := 0; i < len(as); {
		j := i
		var names []string
		for ; j < len(as) && as[j].prefix == as[i].prefix; j++ {
			if len(names) == 0 || names[len(names)-1] != as[j].name {
				names = append(names, as[j].name)
			}
		}
		out = append(out, assignment{prefix: as[i].prefix, name: strings.Join(names, " / ")})
		i = j
	}
	return out
}

// registryDate reads ieee-data's .lastupdate (Unix seconds of the download
// the package was built from) as a UTC date; "" when the file is absent.
func registryDate(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ".lastupdate"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return "", fmt.Errorf(".lastupdate: %w", err)
	}
	return time.Unix(sec, 0).UTC().Format(time.DateOnly), nil
}

// render writes the table as Go source.
func render(t *table) ([]byte, error) {
	// One blob of distinct names, sorted, each followed by '\n'.
	seen := map[string]bool{}
	var names []string
	for _, as := range t.byBits {
		for _, a := range as {
			if !seen[a.name] {
				seen[a.name] = true
				names = append(names, a.name)
			}
		}
	}
	sort.Strings(names)
	offset := map[string]uint64{}
	var blob strings.Builder
	for _, n := range names {
		offset[n] = uint64(blob.Len())
		blob.WriteString(n)
		blob.WriteByte('\n')
	}
	if blob.Len() >= 1<<offsetBits {
		return nil, fmt.Errorf("name blob is %d bytes, more than a %d-bit offset holds", blob.Len(), offsetBits)
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by \"go run ./internal/gen\"; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "// Source: IEEE Registration Authority registries as shipped by Debian's\n")
	fmt.Fprintf(&b, "// ieee-data package, registry date %q. Rows read:", t.date)
	for i, s := range sources {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s %d", s.file, t.rows[s.file])
	}
	b.WriteString(".\n\npackage oui\n\n")
	fmt.Fprintf(&b, "// registryDate is the date of the registry download the table was built from.\nconst registryDate = %q\n\n", t.date)
	fmt.Fprintf(&b, "// offsetBits is how many low bits of an entry hold the offset of its name in names.\nconst offsetBits = %d\n\n", offsetBits)
	for _, tb := range []struct {
		bits int
		name string
		what string
	}{
		{36, "ma36", "MA-S and IAB (36-bit)"},
		{28, "ma28", "MA-M (28-bit)"},
		{24, "ma24", "MA-L (24-bit)"},
	} {
		as := t.byBits[tb.bits]
		width := (tb.bits + offsetBits + 3) / 4
		fmt.Fprintf(&b, "// %s holds the %d %s assignments, sorted: prefix<<offsetBits | name offset.\n", tb.name, len(as), tb.what)
		fmt.Fprintf(&b, "var %s = [...]uint64{", tb.name)
		for i, a := range as {
			if i%6 == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "0x%0*x,", width, a.prefix<<offsetBits|offset[a.name])
		}
		b.WriteString("\n}\n\n")
	}
	fmt.Fprintf(&b, "// names holds the %d distinct organisation names, sorted, each followed by a newline.\n", len(names))
	b.WriteString("const names = " + rawString(blob.String()) + "\n")
	return format.Source(b.Bytes())
}

// rawString quotes s as a raw string literal, splicing in "`" wherever s
// holds a backquote. s holds no carriage returns (normalize drops them).
func rawString(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "` + \"`\" + `") + "`"
}
