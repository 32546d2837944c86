package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func TestFileSinkGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	fs, err := NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{
		{Subject: "iomt.v1.icu-span-1.asset.new", ID: "asset-1", Data: []byte(`{"schema":"iomt.asset/v1","id":"mac:00:1b:21:3a:4f:10","vendor":"GE <Healthcare> & Co"}`)},
		{Subject: "iomt.v1.icu-span-1.asset.update", ID: "asset-1-2", Data: []byte("{\n  \"schema\": \"iomt.asset/v1\",\n  \"ips\": [\"10.20.3.14\"]\n}\n")},
		{Subject: "iomt.v1.icu-span-1.anomaly.high", ID: "an\"1", Data: []byte(`{"schema":"iomt.anomaly/v1","type":"scan","summary":"é ✓"}`)},
		{Subject: "iomt.v1.icu-span-1.health", ID: "h-1", Data: []byte(`  {"ok": true}  `)},
	}
	for i, m := range msgs {
		if err := fs.Publish(m); err != nil {
			t.Fatalf("Test %d: expected no error, got %v", i, err)
		}
	}
	bad := []Message{
		{Subject: "s", ID: "x", Data: []byte(`{"a":`)},
		{Subject: "s", ID: "x", Data: nil},
		{Subject: "s", ID: "x", Data: []byte("not json")},
	}
	for i, m := range bad {
		if err := fs.Publish(m); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("Test %d: expected ErrInvalidPayload, got %v", i, err)
		}
	}
	if err := fs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := fs.Publish(msgs[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("expected ErrClosed after Close, got %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "events.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("expected\n%s\ngot\n%s", want, got)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n")) {
		if !jsonValid(line) {
			t.Errorf("line %d is not valid JSON: %s", i, line)
		}
	}
}

func TestTee(t *testing.T) {
	dir := t.TempDir()
	a, err := NewFileSink(filepath.Join(dir, "a.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewFileSink(filepath.Join(dir, "b.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	s := Tee(a, b)
	if err := s.Publish(Message{Subject: "iomt.v1.s.health", ID: "1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(Message{Subject: "iomt.v1.s.health", ID: "2", Data: []byte(`{`)}); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("expected ErrInvalidPayload from both sinks, got %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.jsonl", "b.jsonl"} {
		got, _ := os.ReadFile(filepath.Join(dir, name))
		if want := `{"subject":"iomt.v1.s.health","msg_id":"1","payload":{}}` + "\n"; string(got) != want {
			t.Errorf("%s: expected %q, got %q", name, want, got)
		}
	}
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// TestFileSinkCompact: a payload from json.Marshal marked Compact is
// written as the same line as when the sink checks it.
func TestFileSinkCompact(t *testing.T) {
	values := []any{
		map[string]any{"vendor": "GE <Healthcare> & Co", "ips": []string{"10.20.3.14"}},
		"line\nbreak\r\u2028",
		[]any{1.5, nil, true, map[string]any{}},
	}
	var lines [2][]byte
	for i, compact := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "events.jsonl")
		fs, err := NewFileSink(path)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range values {
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if err := fs.Publish(Message{Subject: "iomt.v1.s.asset.new", ID: "a", Data: data, Compact: compact}); err != nil {
				t.Fatalf("Test %d: expected no error, got %v", j, err)
			}
		}
		if err := fs.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if lines[i], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(lines[0], lines[1]) {
		t.Errorf("expected\n%s\ngot\n%s", lines[0], lines[1])
	}
	if n := bytes.Count(lines[1], []byte("\n")); n != len(values) {
		t.Errorf("expected %d lines, got %d", len(values), n)
	}
}
