package tls

import (
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// TestCacheAgrees: decoders sharing a fingerprint cache say what uncached
// ones say, over every capture the package tests, cold and warm.
func TestCacheAgrees(t *testing.T) {
	uncached := Spec()
	uncached.New = New
	cached := Spec() // one cache for every file, as in the sensor
	decode := func(t *testing.T, spec protocols.Spec, path string) []string {
		var out []string
		for _, d := range corpustest.DecodeStreams(t, spec, path) {
			for _, e := range d.Emitted {
				out = append(out, line(path, e))
			}
		}
		return out
	}
	for _, file := range append([]string{""}, corpusFiles...) {
		name := file
		if file == "" {
			name = "identity-tls"
		}
		t.Run(name, func(t *testing.T) {
			path := identityCapture
			if file != "" {
				path = corpustest.File(t, file)
			}
			want := decode(t, uncached, path)
			for _, pass := range []string{"cold", "warm"} {
				if got := decode(t, cached, path); !slices.Equal(got, want) {
					t.Errorf("%s cache: expected %q\ngot      %q", pass, want, got)
				}
			}
		})
	}
	for i, tc := range fixtures {
		want, err := feed(tc.data, tc.dir, tc.port, 0)
		for _, pass := range []string{"cold", "warm"} {
			got, err2 := feedNew(cached.New, tc.data, tc.dir, tc.port, 0)
			if !reflect.DeepEqual(got, want) || err2 != err {
				t.Errorf("Test %d (%s), %s cache: expected %+v, %v\ngot      %+v, %v", i, tc.name, pass, want, err, got, err2)
			}
		}
	}
}

// helloOf parses the ClientHello of a handshake message.
func helloOf(t *testing.T, msg []byte) *hello {
	t.Helper()
	h, err := parseClientHello(msg[4:])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// values returns what a decoder emits of e.
func values(e *fingerprints) [3]string { return [3]string{e.ja3, e.ja3Hash, e.ja4} }

// TestCacheEntries: a second hello with the same inputs finds the first
// one's entry; an entry of other inputs in its slot, as after a hash
// collision, is replaced, never returned; inputs over maxKey bytes are not
// cached.
func TestCacheEntries(t *testing.T) {
	c := newFingerprintCache()
	h := helloOf(t, ja4SpecHello())
	want := newFingerprints(h, nil)
	e := c.get(h)
	if values(e) != values(want) {
		t.Fatalf("expected %q, got %q", values(want), values(e))
	}
	if again := c.get(helloOf(t, ja4SpecHello())); again != e {
		t.Errorf("expected the cached entry %p, got %p", e, again)
	}

	other := c.get(helloOf(t, clientHello(0x0300, []uint16{4, 5}, nil)))
	var buf [maxKey]byte
	key, _ := appendKey(buf[:0], h)
	slot := c.slot(key)
	slot.Store(other)
	if got := c.get(h); got == other || values(got) != values(want) || slot.Load() != got {
		t.Errorf("colliding entry: expected a new entry of %q, got %q (the slot's entry is %q)", values(want), values(got), values(slot.Load()))
	}

	ciphers := make([]uint16, maxKey/2)
	for i := range ciphers {
		ciphers[i] = uint16(i + 1)
	}
	c = newFingerprintCache()
	long := helloOf(t, clientHello(0x0303, ciphers, nil))
	if got, want := c.get(long), newFingerprints(long, nil); values(got) != values(want) {
		t.Errorf("long hello: expected %q, got %q", values(want), values(got))
	}
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			t.Errorf("long hello cached in slot %d", i)
		}
	}
}

// TestCacheKey: every input of the fingerprints is in the key. Each variant
// changes one input of the spec hello, and so one fingerprint at least; the
// cache, holding the spec hello's, must not give it.
func TestCacheKey(t *testing.T) {
	base := *helloOf(t, ja4SpecHello())
	variants := []struct {
		name   string
		change func(h *hello)
	}{
		{"legacy version", func(h *hello) { h.version = 0x0301 }},
		{"highest version", func(h *hello) { h.highest = 0x0303 }},
		{"ALPN", func(h *hello) { h.alpn = [][]byte{[]byte("http/1.1")} }},
		{"no ALPN", func(h *hello) { h.alpn = nil }},
		{"SNI", func(h *hello) { h.hasSNI = false }},
		{"cipher order", func(h *hello) { h.ciphers = slices.Clone(h.ciphers); slices.Reverse(h.ciphers) }},
		{"one cipher less", func(h *hello) { h.ciphers = h.ciphers[1:] }},
		{"extension order", func(h *hello) { h.extensions = slices.Clone(h.extensions); slices.Reverse(h.extensions) }},
		{"groups", func(h *hello) { h.groups = h.groups[1:] }},
		{"point formats", func(h *hello) { h.pointFormats = []byte{0, 1} }},
		{"signature algorithms", func(h *hello) { h.sigAlgs = h.sigAlgs[1:] }},
		{"no signature algorithms", func(h *hello) { h.sigAlgs = nil }},
		{"a group moved to the point formats", func(h *hello) { h.groups = h.groups[:2]; h.pointFormats = []byte{0, 0, 0x18} }},
	}
	c := newFingerprintCache()
	baseFP := c.get(&base)
	for i, tc := range variants {
		v := base
		tc.change(&v)
		want := newFingerprints(&v, nil)
		if want.ja3 == baseFP.ja3 && want.ja4 == baseFP.ja4 {
			t.Fatalf("Test %d (%s): the variant has the spec hello's fingerprints", i, tc.name)
		}
		for _, pass := range []string{"cold", "warm"} {
			if got := c.get(&v); values(got) != values(want) {
				t.Errorf("Test %d (%s), %s: expected %q, got %q", i, tc.name, pass, values(want), values(got))
			}
		}
	}
}

// TestCacheConcurrent: decoders on several goroutines share a cache while
// more distinct fingerprints than it has slots replace one another. Run it
// with -race.
func TestCacheConcurrent(t *testing.T) {
	hellos := make([][]byte, 2*cacheSlots)
	for i := range hellos {
		exts := []ext{sniExt("example.com"), alpnExt("h2"), {extSupportedVersions, vec8(be16(0x0304, 0x0303))}}
		hellos[i] = records(clientHello(0x0303, []uint16{0x1301, uint16(i), 0x1302}, exts), 1<<14)
	}
	want := make([][]protocols.Observation, len(hellos))
	for i, data := range hellos {
		want[i], _ = feed(data, protocols.FromClient, 443, 0)
	}
	spec := Spec()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 2 * len(hellos) {
				i := (k*(2*g+1) + g*len(hellos)/4) % len(hellos) // each goroutine in its own order
				got, err := feedNew(spec.New, hellos[i], protocols.FromClient, 443, 0)
				if err != nil || !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d, hello %d: expected %+v, got %+v, %v", g, i, want[i], got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
