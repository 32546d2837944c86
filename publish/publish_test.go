package publish

import (
	"errors"
	"strings"
	"testing"
)

func TestSubjects(t *testing.T) {
	tests := []struct {
		name     string
		fn       func(string) (string, error)
		sensor   string
		want     string
		wantErr  error
		errMatch string
	}{
		{"new", AssetNewSubject, "icu-span-1", "iomt.v1.icu-span-1.asset.new", nil, ""},
		{"update", AssetUpdateSubject, "icu_span_1", "iomt.v1.icu_span_1.asset.update", nil, ""},
		{"health", HealthSubject, "ICU2", "iomt.v1.ICU2.health", nil, ""},
		{"anomaly", func(s string) (string, error) { return AnomalySubject(s, "high") }, "s1", "iomt.v1.s1.anomaly.high", nil, ""},
		{"empty", HealthSubject, "", "", ErrInvalidSensor, "empty"},
		{"space", HealthSubject, "icu span", "", ErrInvalidSensor, "whitespace at byte 3"},
		{"tab", HealthSubject, "icu\tspan", "", ErrInvalidSensor, "whitespace"},
		{"dot", HealthSubject, "icu.span", "", ErrInvalidSensor, "a dot"},
		{"star", HealthSubject, "icu*", "", ErrInvalidSensor, "wildcard '*'"},
		{"gt", HealthSubject, "icu>", "", ErrInvalidSensor, "wildcard '>'"},
		{"control", HealthSubject, "icu\x00", "", ErrInvalidSensor, "control character"},
		{"bad utf8", HealthSubject, "icu\xff", "", ErrInvalidSensor, "UTF-8"},
		{"too long", HealthSubject, strings.Repeat("a", 65), "", ErrInvalidSensor, "shorten"},
		{"bad severity", func(s string) (string, error) { return AnomalySubject(s, "urgent") }, "s1", "", ErrInvalidSeverity, "use info, low"},
	}
	for i, tt := range tests {
		got, err := tt.fn(tt.sensor)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errMatch) {
				t.Errorf("Test %d (%s): expected error %v containing %q, got %v", i, tt.name, tt.wantErr, tt.errMatch, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Test %d (%s): expected %q, got %q, %v", i, tt.name, tt.want, got, err)
		}
	}
}

func TestBoundedQueue(t *testing.T) {
	msg := func(subj, id string) Message { return Message{Subject: "iomt.v1.s." + subj, ID: id} }
	tests := []struct {
		limit int
		in    []Message
		want  []string // IDs left, in order
		drops int
	}{
		{3, []Message{msg("asset.new", "1"), msg("asset.update", "2")}, []string{"1", "2"}, 0},
		{3, []Message{msg("asset.update", "1"), msg("asset.new", "2"), msg("asset.update", "3"), msg("health", "4")}, []string{"2", "3", "4"}, 1},
		{2, []Message{msg("asset.new", "1"), msg("asset.update", "2"), msg("asset.update", "3"), msg("health", "4")}, []string{"1", "4"}, 2},
		{2, []Message{msg("asset.new", "1"), msg("health", "2"), msg("anomaly.high", "3")}, []string{"2", "3"}, 1},
	}
	for i, tt := range tests {
		q := boundedQueue{limit: tt.limit}
		drops := 0
		for _, m := range tt.in {
			if q.push(entry{msg: m}) {
				drops++
			}
		}
		var got []string
		for e, ok := q.pop(); ok; e, ok = q.pop() {
			got = append(got, e.msg.ID)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || drops != tt.drops {
			t.Errorf("Test %d: expected %v with %d drops, got %v with %d", i, tt.want, tt.drops, got, drops)
		}
	}
}

func TestFIFOCompaction(t *testing.T) {
	var f fifo
	next := uint64(0)
	for i := range uint64(10000) {
		f.push(queued{seq: i})
		if i%3 == 0 {
			if got := f.pop().seq; got != next {
				t.Fatalf("expected seq %d, got %d", next, got)
			}
			next++
		}
	}
	for f.len() > 0 {
		if got := f.pop().seq; got != next {
			t.Fatalf("expected seq %d, got %d", next, got)
		}
		next++
	}
	if next != 10000 {
		t.Fatalf("expected 10000 items, got %d", next)
	}
}
