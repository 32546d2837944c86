package fingerprint

import "testing"

func TestIsMedical(t *testing.T) {
	tests := []struct {
		category string
		want     bool
	}{
		{"imaging.ct", true},
		{"imaging.pacs", true},
		{"clinical.infusion_pump", true},
		{"it.printer", false},
		{"iot.camera", false},
		{"unknown", false},
		{"", false},
	}
	for i, tc := range tests {
		if got := IsMedical(tc.category); got != tc.want {
			t.Errorf("Test %d: IsMedical(%q): expected %v, got %v", i, tc.category, tc.want, got)
		}
		if tc.category != "" && !IsCategory(tc.category) {
			t.Errorf("Test %d: %q is not in Categories", i, tc.category)
		}
	}
}
