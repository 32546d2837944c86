package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/iomt-sensor/iomt-sensor/publish"
)

// TestReplayThroughOutage replays a capture at its own pace into a NATS
// server that is stopped during the replay and started again on the same
// port and store: every event the sensor wrote to --events must be stored
// in the stream exactly once.
func TestReplayThroughOutage(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	addr := freeAddr(t)
	start := func() *publish.Embedded {
		t.Helper()
		e, err := publish.StartEmbedded(publish.EmbeddedOptions{Listen: addr, DataDir: store, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	srv := start()
	url := srv.ClientURL()

	events := filepath.Join(dir, "events.jsonl")
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte("nats:\n  outbox:\n    dir: "+filepath.Join(dir, "outbox")+"\n"), 0o644)

	// clinic.pcap spans about 3.3 seconds: the server is away from 0.8 s to 2.0 s.
	outage := make(chan *publish.Embedded, 1)
	go func() {
		time.Sleep(800 * time.Millisecond)
		srv.Shutdown()
		time.Sleep(1200 * time.Millisecond)
		outage <- start()
	}()
	_, stderr, code := replay(t, "--config", cfg, "--realtime", "--nats", url, "--sensor", "outage", "--events", events, captures+"clinic.pcap")
	srv = <-outage
	defer srv.Shutdown()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	var want []string
	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			MsgID string `json:"msg_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		want = append(want, line.MsgID)
	}
	f.Close()
	if len(want) < 5 {
		t.Fatalf("expected at least 5 events, got %d", len(want))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stored []publish.Message
	for { // the sensor's Close waited for acks; the store may lag a moment
		stored, err = publish.Fetch(ctx, srv.ClientURL(), "IOMT")
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) >= len(want) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	count := map[string]int{}
	for _, m := range stored {
		count[m.ID]++
	}
	for _, id := range want {
		if count[id] != 1 {
			t.Errorf("event %s stored %d times, want once", id, count[id])
		}
	}
	if len(stored) != len(want) {
		t.Errorf("stream holds %d messages, the sensor published %d", len(stored), len(want))
	}
}
