package sensor

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/arp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dhcp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dicom"
	"github.com/iomt-sensor/iomt-sensor/protocols/dns"
	"github.com/iomt-sensor/iomt-sensor/protocols/hl7"
	"github.com/iomt-sensor/iomt-sensor/protocols/http"
	"github.com/iomt-sensor/iomt-sensor/protocols/tls"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/decode"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// sharedRun replays files through n workers and returns the final
// inventory, the inventory events and the anomalies, as JSON lines.
func sharedRun(t *testing.T, files []string, n int) (assets, events, anomalies []byte) {
	t.Helper()
	src, err := capture.OpenFiles(files, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ev, an bytes.Buffer
	enc := func(buf *bytes.Buffer, v any) {
		mu.Lock()
		defer mu.Unlock()
		if err := json.NewEncoder(buf).Encode(v); err != nil {
			t.Error(err)
		}
	}
	inv := inventory.New(inventory.Config{Sensor: "t", UpdateInterval: time.Second}, func(e inventory.Event) { enc(&ev, e) })
	// Everything is raised before RunAll returns: iomt-sensor closes the
	// publisher then.
	var returned atomic.Bool
	det := anomaly.New("t", time.Minute, func(a anomaly.Anomaly) {
		if returned.Load() {
			t.Errorf("%d workers: anomaly raised after RunAll returned", n)
		}
		enc(&an, a)
	})
	specs := []protocols.Spec{arp.Spec(), dhcp.Spec(), dicom.Spec(), hl7.Spec(), dns.Spec(), tls.Spec(), http.Spec()}
	ws := NewWorkers(n, Config{Anomalies: det}, specs, inv)
	srcs := capture.PrefetchShards(src, n, decode.FlowHash)
	if err := RunAll(context.Background(), srcs, ws); err != nil {
		t.Fatal(err)
	}
	returned.Store(true)
	var now time.Time
	for _, w := range ws {
		if w.Now().After(now) {
			now = w.Now()
		}
	}
	inv.Flush(now)
	all, err := json.Marshal(inv.Assets())
	if err != nil {
		t.Fatal(err)
	}
	return all, ev.Bytes(), an.Bytes()
}

// TestWorkersShareCapture replays the test captures through 1 to 3
// workers: the inventory is the same whatever the number of workers, and
// so are the anomalies; the events are the same on every replay with the
// same number of workers.
func TestWorkersShareCapture(t *testing.T) {
	files, err := filepath.Glob("../testdata/captures/*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures (%v)", err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "truncated.pcap" })
	assets1, _, anomalies1 := sharedRun(t, files, 1)
	if len(anomalies1) == 0 {
		t.Fatal("no anomaly raised: the test captures should raise some")
	}
	for n := 2; n <= 3; n++ {
		assets, events, anomalies := sharedRun(t, files, n)
		if !bytes.Equal(assets, assets1) {
			t.Errorf("%d workers: the inventory differs from one worker's", n)
		}
		if !bytes.Equal(anomalies, anomalies1) {
			t.Errorf("%d workers: anomalies differ from one worker's:\n%s\nwant\n%s", n, anomalies, anomalies1)
		}
		_, again, _ := sharedRun(t, files, n)
		if !bytes.Equal(events, again) {
			t.Errorf("%d workers: the events differ between two replays", n)
		}
	}
}
