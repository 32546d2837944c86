package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/arp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dhcp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dicom"
	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// TestScrape replays a real capture, scrapes /metrics over HTTP, parses the
// exposition with Prometheus's text parser and checks values against the
// replay.
func TestScrape(t *testing.T) {
	m, w, inv := replay(t, "clinic.pcap", arp.Spec(), dhcp.Spec())
	m.SetInventory(inv.Stats)
	m.SetAnomalies(func() map[anomaly.Kind]uint64 { return map[anomaly.Kind]uint64{{Type: "hl7_nack", Severity: "low"}: 2} })
	inv.Flush(w.Now())

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: expected %d, got %d", path, want, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		mf, ok := families[name]
		if !ok {
			t.Errorf("metric %s missing", name)
			return -1
		}
		var sum float64
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			sum += metricValue(m)
		}
		return sum
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"iomt_sensor_packets_total", map[string]string{"interface": "clinic.pcap"}, 43},
		{"iomt_sensor_bytes_total", nil, 5960},
		{"iomt_sensor_kernel_drops_total", nil, 0},
		{"iomt_sensor_observations_total", map[string]string{"protocol": "dhcp"}, 12},
		{"iomt_sensor_assets", map[string]string{"category": "unknown", "medical": "false"}, 5},
		{"iomt_sensor_decoder_panics_recovered_total", nil, 0},
		{"iomt_sensor_flows_active", nil, 0},
		{"iomt_sensor_build_info", map[string]string{"version": "test"}, 1},
		{"iomt_sensor_anomalies_total", map[string]string{"type": "hl7_nack", "severity": "low"}, 2},
	}
	for i, tc := range tests {
		if got := value(tc.name, tc.labels); got != tc.want {
			t.Errorf("Test %d: %s%v: expected %v, got %v", i, tc.name, tc.labels, tc.want, got)
		}
	}
	m.SetReady(true)
	if resp, err := http.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("expected /readyz 200 once ready, got %v %v", resp, err)
	}
}

// replay runs the testdata capture name through one worker with specs,
// counted by a new Metrics as interface name.
func replay(t *testing.T, name string, specs ...protocols.Spec) (*Metrics, *sensor.Worker, *inventory.Inventory) {
	t.Helper()
	src, err := capture.OpenFile("../../testdata/captures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	inv := inventory.New(inventory.Config{Sensor: "test"}, nil)
	w := sensor.NewWorker(sensor.Config{}, specs, inv)
	m := New("test", specs)
	m.AddWorker(name, w.Stats(), src.Stats)
	if err := sensor.Run(context.Background(), src, w); err != nil {
		t.Fatal(err)
	}
	return m, w, inv
}

// TestScrapeSkipped replays dcmtk's C-STORE and checks that the data set
// bytes the DICOM decoder let reassembly pass over are counted.
func TestScrapeSkipped(t *testing.T) {
	m, _, _ := replay(t, "dicom-store.pcap", dicom.Spec())
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	mf, ok := families["iomt_sensor_reassembly_skipped_bytes_total"]
	if !ok || len(mf.GetMetric()) != 1 {
		t.Fatalf("iomt_sensor_reassembly_skipped_bytes_total missing: %v", mf)
	}
	if got := metricValue(mf.GetMetric()[0]); got != 7588 {
		t.Errorf("expected 7588 skipped bytes (the C-STORE data set past group 0018), got %v", got)
	}
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return m.GetUntyped().GetValue()
}
