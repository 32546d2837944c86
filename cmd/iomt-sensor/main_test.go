package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

const captures = "../../testdata/captures/"

// replay runs the command line and returns stdout, stderr and the exit code.
func replay(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"replay"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func readInventory(t *testing.T, path string) []inventory.Asset {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var assets []inventory.Asset
	if err := json.Unmarshal(data, &assets); err != nil {
		t.Fatalf("%s is not a JSON array of assets: %v", path, err)
	}
	return assets
}

func TestReplayEveryCorpusFile(t *testing.T) {
	dir := capturetest.Dir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 40 {
		t.Fatalf("expected the corpus's 45 captures, found %d", len(files))
	}
	for _, f := range files {
		inv := filepath.Join(t.TempDir(), "inventory.json")
		_, stderr, code := replay(t, "--nats", "off", "--format", "json", "--inventory", inv, f)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", f, code, stderr)
			continue
		}
		readInventory(t, inv)
		if !strings.Contains(stderr, `"decoder_panics":0`) {
			t.Errorf("%s: a decoder panicked: %s", f, stderr)
		}
	}
}

// TestReplayGolden replays the testdata captures and compares the inventory
// with a reviewed golden file; the pcapng and gzip copies must give the same
// bytes, as must a second run.
func TestReplayGolden(t *testing.T) {
	var first []byte
	for _, name := range []string{"clinic.pcap", "clinic.pcapng", "clinic.pcapng.gz", "clinic.pcap"} {
		inv := filepath.Join(t.TempDir(), "inventory.json")
		_, stderr, code := replay(t, "--nats", "off", "--sensor", "test", "--format", "json", "--inventory", inv, captures+name)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		got, _ := os.ReadFile(inv)
		if first == nil {
			first = got
			continue
		}
		if !bytes.Equal(got, first) {
			t.Errorf("%s: inventory differs from clinic.pcap's", name)
		}
	}
	golden := "testdata/golden/clinic.json"
	if *update {
		os.WriteFile(golden, first, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(first, want) {
		t.Errorf("inventory differs from %s; review with go test -update and git diff", golden)
	}

	// The devices that testdata/README.md says the capture holds.
	assets := map[string]inventory.Asset{}
	for _, a := range readInventoryBytes(t, first) {
		assets[a.ID] = a
	}
	for id, want := range map[string]struct{ ip, hostname string }{
		"mac:00:1b:21:77:00:07": {"10.77.0.107", "INFUSION-07"},
		"mac:00:09:fb:77:00:03": {"10.77.0.103", "ICU-MONITOR-3"},
		"mac:00:50:56:77:00:01": {"10.77.0.1", ""},
		"mac:00:50:56:77:00:0a": {"10.77.0.10", ""},
		"mac:00:1b:21:77:00:14": {"10.77.0.20", ""},
	} {
		a, ok := assets[id]
		if !ok {
			t.Errorf("expected asset %s", id)
			continue
		}
		if len(a.IPs) != 1 || a.IPs[0] != want.ip {
			t.Errorf("%s: expected IPs [%s], got %v", id, want.ip, a.IPs)
		}
		if want.hostname != "" && (len(a.Hostnames) != 1 || a.Hostnames[0] != want.hostname) {
			t.Errorf("%s: expected hostnames [%s], got %v", id, want.hostname, a.Hostnames)
		}
	}
	if n := len(assets); n != 5 {
		t.Errorf("expected 5 assets, got %d", n)
	}
	dhcpd := assets["mac:00:50:56:77:00:01"]
	if len(dhcpd.Services) != 1 || dhcpd.Services[0].Port != 67 || dhcpd.Services[0].Protocol != "dhcp" {
		t.Errorf("expected the DHCP server's service udp/67 dhcp, got %+v", dhcpd.Services)
	}
	pump := assets["mac:00:1b:21:77:00:07"]
	if len(pump.Peers) != 1 || pump.Peers[0].Asset != dhcpd.ID || pump.Peers[0].Role != "server" {
		t.Errorf("expected the pump's peer to be the DHCP server in role server, got %+v", pump.Peers)
	}
	web := assets["mac:00:50:56:77:00:0a"]
	if len(web.Services) != 1 || web.Services[0].Transport != "tcp" || web.Services[0].Port != 80 {
		t.Errorf("expected the web server's service tcp/80, got %+v", web.Services)
	}
}

func readInventoryBytes(t *testing.T, data []byte) []inventory.Asset {
	t.Helper()
	var assets []inventory.Asset
	if err := json.Unmarshal(data, &assets); err != nil {
		t.Fatal(err)
	}
	return assets
}

func TestFlagsAfterFiles(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inventory.json")
	_, stderr, code := replay(t, captures+"clinic.pcap", "--nats", "off", "--inventory", inv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(readInventory(t, inv)) != 5 {
		t.Error("expected the inventory written by a flag given after the file")
	}
}

func TestReplayTruncatedFile(t *testing.T) {
	out, stderr, code := replay(t, "--nats", "off", captures+"truncated.pcap")
	if code != 0 {
		t.Fatalf("expected exit 0 for a truncated capture, got %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "truncated.pcap") || !strings.Contains(stderr, "cut short") {
		t.Errorf("expected a warning naming truncated.pcap, got %q", stderr)
	}
	if !strings.Contains(out, "assets") {
		t.Errorf("expected an inventory table, got %q", out)
	}
}

func TestReplayErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--nats", "off", "../../README.md"}, 1, "README.md"},
		{[]string{"--nats", "off", "no-such-file.pcap"}, 1, "no-such-file.pcap"},
		{[]string{}, 2, "name at least one capture file"},
		{[]string{"--format", "xml", captures + "clinic.pcap"}, 1, "--format"},
		{[]string{"--sensor", "bad name", captures + "clinic.pcap"}, 1, "sensor"},
	}
	for i, tc := range tests {
		_, stderr, code := replay(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("Test %d: expected exit %d and %q in stderr, got %d: %q", i, tc.code, tc.want, code, stderr)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{"sensor:\n  name: ok\nflows:\n  max_flow: 10\n", []string{"line 4", `unknown key "max_flow"`}},
		{"flows:\n  max_flows: lots\n", []string{"line 2", `"lots" is not int`}},
		{"flows:\n  idle_timeout: soon\n", []string{"line 2", "soon"}},
		{"capture:\n  workers: 0\n", []string{"line 2", "capture.workers", "between 1 and 64"}},
		{"inventory:\n  internal_networks: [10.0.0.0/8, nonsense]\n", []string{"line 2", "nonsense"}},
		{"log:\n  level: loud\n", []string{"line 2", "log.level"}},
		{"sensor: [1, 2]\n", []string{"line 1"}},
		{"nats:\n  retention: forever\n", []string{"line 2", "nats.retention", "limits, interest, workqueue"}},
	}
	for i, tc := range tests {
		path := filepath.Join(t.TempDir(), "sensor.yaml")
		os.WriteFile(path, []byte(tc.yaml), 0o644)
		_, err := loadConfig(path)
		if err == nil {
			t.Errorf("Test %d: expected an error for %q", i, tc.yaml)
			continue
		}
		for _, w := range append(tc.want, path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Test %d: expected %q in %q", i, w, err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(path, nil, 0o644)
	if _, err := loadConfig(path); err != nil {
		t.Errorf("expected an empty config file to be fine, got %v", err)
	}
}

// TestReplayPublishesEvents replays through the embedded NATS server and
// checks the events file: one asset.new per asset, valid payloads.
func TestReplayPublishesEvents(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	inv := filepath.Join(dir, "inventory.json")
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte("nats:\n  embedded:\n    listen: 127.0.0.1:-1\n    data_dir: "+filepath.Join(dir, "js")+"\n"), 0o644)
	_, stderr, code := replay(t, "--config", cfg, "--sensor", "icu-span-1", "--events", events, "--inventory", inv, captures+"clinic.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	news := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Subject string          `json:"subject"`
			MsgID   string          `json:"msg_id"`
			Payload inventory.Asset `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("bad event line %q: %v", sc.Text(), err)
		}
		if line.Payload.Schema != "iomt.asset/v1" || line.Payload.Sensor != "icu-span-1" || line.MsgID == "" {
			t.Errorf("unexpected event %s", sc.Text())
		}
		switch line.Subject {
		case "iomt.v1.icu-span-1.asset.new":
			news[line.Payload.ID]++
		case "iomt.v1.icu-span-1.asset.update":
		default:
			t.Errorf("unexpected subject %q", line.Subject)
		}
	}
	assets := readInventory(t, inv)
	if len(news) != len(assets) {
		t.Errorf("expected one asset.new per asset (%d), got %v", len(assets), news)
	}
	for id, n := range news {
		if n != 1 {
			t.Errorf("asset %s: %d asset.new events", id, n)
		}
	}
	if strings.Contains(stderr, "publish") && strings.Contains(stderr, "error") {
		t.Errorf("publishing reported errors: %s", stderr)
	}
}

// TestDeployConfigLoads keeps the example configuration valid.
func TestDeployConfigLoads(t *testing.T) {
	cfg, err := loadConfig("../../deploy/sensor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sensor.Name != "icu-span-1" || cfg.Capture.Workers != 2 {
		t.Errorf("unexpected values %+v", cfg)
	}
}

// TestWriteAssets: the streamed inventory is byte for byte what encoding
// the whole array at once gives.
func TestWriteAssets(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden/clinic.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []inventory.Asset
	if err := json.Unmarshal(golden, &all); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, len(all)} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(append([]inventory.Asset{}, all[:n]...)); err != nil {
			t.Fatal(err)
		}
		if err := writeAssets(&got, all[:n]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d assets: streamed JSON differs:\n%s\nwant\n%s", n, got.Bytes(), want.Bytes())
		}
	}
}
