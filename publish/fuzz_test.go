package publish

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzValidateSensor(f *testing.F) {
	for _, s := range []string{"icu-span-1", "", "a.b", "a b", "*", ">", "\x00", "é", strings.Repeat("x", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sensor string) {
		subj, err := HealthSubject(sensor)
		if err != nil {
			return
		}
		tokens := strings.Split(subj, ".")
		if len(tokens) != 4 || tokens[2] != sensor {
			t.Fatalf("sensor %q accepted but subject %q does not have it as one token", sensor, subj)
		}
		if strings.ContainsAny(sensor, " \t\r\n*>") {
			t.Fatalf("sensor %q accepted with a forbidden character", sensor)
		}
	})
}

func FuzzFileSink(f *testing.F) {
	f.Add("iomt.v1.s.health", "id-1", []byte(`{"a":1}`))
	f.Add("s\"\n", "\u2028", []byte("{\n\"a\":\n[1,2]}"))
	f.Add("s", "x", []byte(`"str"`))
	f.Add("s", "x", []byte(`{"a":`))
	f.Fuzz(func(t *testing.T, subj, id string, data []byte) {
		path := filepath.Join(t.TempDir(), "e.jsonl")
		s, err := NewFileSink(path)
		if err != nil {
			t.Fatal(err)
		}
		perr := s.Publish(Message{Subject: subj, ID: id, Data: data})
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if perr != nil {
			if len(out) != 0 {
				t.Fatalf("rejected message still written: %q", out)
			}
			return
		}
		if strings.Count(string(out), "\n") != 1 || out[len(out)-1] != '\n' {
			t.Fatalf("expected exactly one line, got %q", out)
		}
		var line struct {
			Subject string          `json:"subject"`
			MsgID   string          `json:"msg_id"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(out, &line); err != nil {
			t.Fatalf("line is not JSON: %v: %q", err, out)
		}
		if !json.Valid(line.Payload) {
			t.Fatalf("payload not valid JSON: %q", line.Payload)
		}
	})
}
