package oui

import (
	"net"
	"strings"
	"testing"
	"time"
)

// mustMAC parses a colon-separated MAC for test tables.
func mustMAC(t testing.TB, s string) [6]byte {
	t.Helper()
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		t.Fatalf("bad test MAC %q: %v", s, err)
	}
	return [6]byte(hw)
}

// The expected names are the rows of Debian's ieee-data 20220827.1
// (registry date 2022-08-27) the table was generated from.
func TestLookup(t *testing.T) {
	tests := []struct {
		mac    string
		vendor string // "" means ok must be false
		why    string
	}{
		{"00:09:fb:12:34:56", "Philips Patient Monitoring", "MA-L (oui.csv 0009FB)"},
		{"00:1b:21:aa:bb:cc", "Intel Corporate", "MA-L"},
		{"00:50:56:c0:00:08", "VMware, Inc.", "MA-L, quoted CSV field"},
		{"00:00:00:00:00:01", "XEROX CORPORATION", "lowest MA-L"},
		{"00:00:55:01:02:03", "COMMISSARIAT A L`ENERGIE ATOM.", "backquote in the name"},
		{"08:00:30:01:02:03", "CERN / NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH", "MA-L listed three times"},
		{"50:a0:30:8a:bc:de", "GE Medical System China Co. Ltd.", "MA-M (mam.csv 50A0308)"},
		{"f0:23:b9:b1:23:45", "Q Core Medical Ltd", "MA-M under an IEEE RA MA-L"},
		{"f0:23:b9:f1:23:45", "IEEE Registration Authority", "unassigned MA-M slot falls back to the MA-L"},
		{"50:a0:30:f0:00:01", "", "unassigned MA-M slot and no MA-L"},
		{"28:36:38:9a:bc:de", "Shenzhen Zhi Hua Creative Technology Co., Ltd.", "MA-M, doubled spaces collapsed"},
		{"70:b3:d5:95:00:01", "CMT Medical technologies", "MA-S (oui36.csv 70B3D5950)"},
		{"70:b3:d5:f2:ff:ff", "TELEPLATFORMS", "MA-S, last address of the block"},
		{"70:b3:d5:95:10:00", "Trident Systems Inc", "neighbouring MA-S"},
		{"00:50:c2:7d:50:00", "DEUTA-WERKE GmbH", "IAB (iab.csv 0050C27D5)"},
		{"70:b3:d5:6f:40:01", "", "MA-S withheld as Private: no fallback to the MA-L"},
		{"74:1a:e0:91:22:33", "", "MA-M withheld as Private"},
		{"02:09:fb:12:34:56", "", "locally administered"},
		{"da:a1:19:0b:2c:3d", "", "randomized (locally administered)"},
		{"01:00:5e:00:00:fb", "", "IPv4 multicast"},
		{"33:33:00:00:00:01", "", "IPv6 multicast"},
		{"01:80:c2:00:00:0e", "", "LLDP multicast"},
		{"ff:ff:ff:ff:ff:ff", "", "broadcast"},
	}
	for i, tt := range tests {
		got, ok := Lookup(mustMAC(t, tt.mac))
		if ok != (tt.vendor != "") || got != tt.vendor {
			t.Errorf("Test %d (%s, %s): expected %q ok=%v, got %q ok=%v", i, tt.mac, tt.why, tt.vendor, tt.vendor != "", got, ok)
		}
	}
}

func TestIsLocalIsMulticast(t *testing.T) {
	tests := []struct {
		mac              string
		local, multicast bool
	}{
		{"00:1b:21:aa:bb:cc", false, false},
		{"02:00:00:00:00:01", true, false},
		{"da:a1:19:0b:2c:3d", true, false},
		{"fe:ff:ff:ff:ff:ff", true, false},
		{"01:00:5e:7f:ff:fa", false, true},
		{"33:33:ff:00:00:01", true, true},
		{"ff:ff:ff:ff:ff:ff", true, true},
	}
	for i, tt := range tests {
		m := mustMAC(t, tt.mac)
		if got := IsLocal(m); got != tt.local {
			t.Errorf("Test %d (%s): expected IsLocal %v, got %v", i, tt.mac, tt.local, got)
		}
		if got := IsMulticast(m); got != tt.multicast {
			t.Errorf("Test %d (%s): expected IsMulticast %v, got %v", i, tt.mac, tt.multicast, got)
		}
	}
}

func TestRegistry(t *testing.T) {
	d := Registry()
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		t.Fatalf("Registry() = %q, want a YYYY-MM-DD date: %v", d, err)
	}
}

// TestTables checks the generated tables' invariants: prefixes fit their
// width and are strictly increasing, and every offset starts a name.
func TestTables(t *testing.T) {
	if !strings.HasSuffix(names, "\n") {
		t.Fatal("names does not end with a newline")
	}
	for _, tb := range []struct {
		name  string
		bits  uint
		table []uint64
	}{
		{"ma24", 24, ma24[:]}, {"ma28", 28, ma28[:]}, {"ma36", 36, ma36[:]},
	} {
		if len(tb.table) == 0 {
			t.Errorf("%s is empty", tb.name)
		}
		for i, e := range tb.table {
			p, off := e>>offsetBits, int(e&(1<<offsetBits-1))
			if p >= 1<<tb.bits {
				t.Fatalf("%s[%d]: prefix %#x wider than %d bits", tb.name, i, p, tb.bits)
			}
			if i > 0 && tb.table[i-1]>>offsetBits >= p {
				t.Fatalf("%s[%d]: prefix %#x not above the previous one", tb.name, i, p)
			}
			if off >= len(names) || (off > 0 && names[off-1] != '\n') || names[off] == '\n' {
				t.Fatalf("%s[%d]: offset %d does not start a name", tb.name, i, off)
			}
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	macs := benchMACs(t)
	allocs := testing.AllocsPerRun(100, func() {
		for _, m := range macs {
			Lookup(m)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per run, want 0", allocs)
	}
}

// benchMACs is a mix of MA-L, MA-M, MA-S, unknown, local and multicast
// addresses.
func benchMACs(t testing.TB) [][6]byte {
	var out [][6]byte
	for _, s := range []string{
		"00:09:fb:12:34:56", "00:1b:21:aa:bb:cc", "00:50:56:c0:00:08",
		"50:a0:30:8a:bc:de", "70:b3:d5:95:00:01", "00:50:c2:7d:50:00",
		"50:a0:30:f0:00:01", "da:a1:19:0b:2c:3d", "01:00:5e:00:00:fb",
		"f0:23:b9:f1:23:45",
	} {
		out = append(out, mustMAC(t, s))
	}
	return out
}

func BenchmarkLookup(b *testing.B) {
	macs := benchMACs(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Lookup(macs[i%len(macs)])
		i++
	}
}

// reference is Lookup done the slow way: a linear scan of each table.
func reference(mac [6]byte) (string, bool) {
	if mac[0]&3 != 0 {
		return "", false
	}
	var m uint64
	for _, b := range mac {
		m = m<<8 | uint64(b)
	}
	for _, tb := range []struct {
		shift uint
		table []uint64
	}{{12, ma36[:]}, {20, ma28[:]}, {24, ma24[:]}} {
		for _, e := range tb.table {
			if e>>offsetBits == m>>tb.shift {
				name, _, _ := strings.Cut(names[e&(1<<offsetBits-1):], "\n")
				if name == privateName {
					return "", false
				}
				return name, true
			}
		}
	}
	return "", false
}

func FuzzLookup(f *testing.F) {
	for _, m := range benchMACs(f) {
		f.Add(m[:])
	}
	f.Add([]byte{0x70, 0xb3, 0xd5, 0x6f, 0x40, 0x01})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var mac [6]byte
		copy(mac[:], data)
		got, ok := Lookup(mac)
		want, wantOK := reference(mac)
		if got != want || ok != wantOK {
			t.Fatalf("Lookup(% x) = %q %v, reference %q %v", mac, got, ok, want, wantOK)
		}
		if ok && (got == "" || strings.ContainsRune(got, '\n') || IsLocal(mac) || IsMulticast(mac)) {
			t.Fatalf("Lookup(% x) = %q for a MAC that should have no vendor or a bad name", mac, got)
		}
	})
}
