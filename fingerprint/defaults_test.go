package fingerprint

import "testing"

// TestDefaultsLoad checks that the embedded default rule files load.
func TestDefaultsLoad(t *testing.T) {
	files := Defaults()
	if len(files) == 0 {
		t.Skip("no default rule files embedded yet")
	}
	for _, f := range files {
		for _, err := range Check(f) {
			t.Errorf("%v", err)
		}
	}
	e, err := New(files...)
	if err != nil {
		t.Fatalf("New(Defaults()...): %v", err)
	}
	r, o, a := e.Rules()
	t.Logf("defaults: %d rules, %d owners, %d advisories", r, o, a)
}
