package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRunLive runs the live command on the loopback interface with the
// embedded NATS server, sends it real traffic, scrapes /metrics and /readyz
// over HTTP, then stops it as SIGTERM would.
func TestRunLive(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("live capture needs Linux and root (CAP_NET_RAW); CI runs as root")
	}
	httpAddr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor:
  name: live-test
capture:
  filter: "udp port 47808"
nats:
  embedded:
    listen: 127.0.0.1:-1
    data_dir: %s
  outbox:
    dir: %s
http:
  listen: %s
`, filepath.Join(dir, "js"), filepath.Join(dir, "outbox"), httpAddr)), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- liveCmd(ctx, []string{"--config", cfg, "--iface", "lo"}, io.Discard, &stderr) }()
	stopped := false
	defer func() { // on an early failure: stop the sensor before the temp dir goes
		if !stopped {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("run did not stop within 20s of cancellation: %s", stderr.String())
			}
		}
	}()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never became ready: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := net.Dial("udp", "127.0.0.1:47808")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for {
		conn.Write([]byte("iomt-live-test"))
		_, body := get("/metrics")
		if strings.Contains(body, `iomt_sensor_packets_total{interface="lo"}`) && !strings.Contains(body, `iomt_sensor_packets_total{interface="lo"} 0`) {
			for _, want := range []string{"iomt_sensor_kernel_drops_total", "iomt_sensor_build_info", "iomt_sensor_flows_active", "iomt_sensor_events_published_total"} {
				if !strings.Contains(body, want) {
					t.Errorf("metric %s missing", want)
				}
			}
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("no packets counted on lo: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("run returned %v: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
