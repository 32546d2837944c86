package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
	"github.com/iomt-sensor/iomt-sensor/sensor/metrics"
)

// plantedPHI are the patient identifiers planted in the DICOM and HL7 test
// captures (testdata/README.md). None may leave the sensor.
var plantedPHI = []string{
	"DOE^JANE", "PID-778899", "778899", "19700101", "ACC-5544", "SMITH^JOHN",
}

// TestNoPHIAnywhere replays every capture with planted PHI and searches
// everything the sensor writes: the printed inventory, the inventory file,
// the events file (assets and anomalies), the logs at debug level and the
// metrics exposition.
func TestNoPHIAnywhere(t *testing.T) {
	files, _ := filepath.Glob(captures + "dicom-*.pcap")
	hl7, _ := filepath.Glob(captures + "hl7-*.pcap")
	files = append(files, hl7...)
	if len(files) == 0 {
		t.Skip("no DICOM or HL7 captures in testdata/captures")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte("log:\n  level: debug\n  format: json\n"), 0o644)
	for _, f := range files {
		events := filepath.Join(dir, filepath.Base(f)+".events")
		inv := filepath.Join(dir, filepath.Base(f)+".json")
		for _, format := range []string{"table", "json", "csv"} {
			out, stderr, code := replay(t, "--config", cfg, "--nats", "off", "--format", format,
				"--events", events, "--inventory", inv, f)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", f, code, stderr)
			}
			ev, _ := os.ReadFile(events)
			in, _ := os.ReadFile(inv)
			for what, text := range map[string]string{
				"stdout (" + format + ")": out, "logs": stderr, "events": string(ev), "inventory": string(in),
				"metrics": scrape(t, f),
			} {
				for _, phi := range plantedPHI {
					if strings.Contains(strings.ToUpper(text), phi) {
						t.Errorf("%s: planted PHI %q appears in %s", filepath.Base(f), phi, what)
					}
				}
			}
		}
	}
}

// scrape replays path with metrics and returns the exposition text.
func scrape(t *testing.T, path string) string {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	inv := inventory.New(inventory.Config{Sensor: "phi"}, nil)
	w := sensor.NewWorker(sensor.Config{}, protocolSpecs(), inv)
	m := metrics.New("test", protocolSpecs())
	m.AddWorker(filepath.Base(path), w.Stats(), src.Stats)
	m.SetInventory(inv.Stats)
	if err := sensor.Run(context.Background(), src, w); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return string(bytes.ToUpper(body))
}
