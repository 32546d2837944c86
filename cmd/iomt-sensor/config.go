package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/iomt-sensor/iomt-sensor/publish"
)

// Config is the YAML configuration file. Every key is optional; zero values
// take the defaults documented in README.md.
type Config struct {
	Sensor      SensorConfig      `yaml:"sensor"`
	Capture     CaptureConfig     `yaml:"capture"`
	Flows       FlowConfig        `yaml:"flows"`
	Reassembly  ReassemblyConfig  `yaml:"reassembly"`
	Inventory   InventoryConfig   `yaml:"inventory"`
	NATS        NATSConfig        `yaml:"nats"`
	HTTP        HTTPConfig        `yaml:"http"`
	Fingerprint FingerprintConfig `yaml:"fingerprint"`
	Log         LogConfig         `yaml:"log"`
}

// SensorConfig names the sensor.
type SensorConfig struct {
	Name string `yaml:"name"`
}

// CaptureConfig is for live capture.
type CaptureConfig struct {
	Interface string `yaml:"interface"`
	Filter    string `yaml:"filter"`
	Workers   int    `yaml:"workers"`
	Snaplen   int    `yaml:"snaplen"`
	RingMB    int    `yaml:"ring_mb"`
}

// FlowConfig bounds the flow tables.
type FlowConfig struct {
	MaxFlows    int           `yaml:"max_flows"`
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// ReassemblyConfig bounds TCP reassembly.
type ReassemblyConfig struct {
	MaxBufferedPerStream int `yaml:"max_buffered_per_stream"`
	MaxPendingSegments   int `yaml:"max_pending_segments"`
	MaxBytes             int `yaml:"max_bytes"`
}

// InventoryConfig tunes the inventory.
type InventoryConfig struct {
	InternalNetworks []string      `yaml:"internal_networks"`
	RouterMinIPs     int           `yaml:"router_min_ips"`
	MaxAssets        int           `yaml:"max_assets"`
	UpdateInterval   time.Duration `yaml:"update_interval"`
}

// NATSConfig says where events go.
type NATSConfig struct {
	// URLs of a NATS cluster; empty starts the embedded server.
	URLs     []string       `yaml:"urls"`
	Embedded EmbeddedConfig `yaml:"embedded"`
	Stream   string         `yaml:"stream"`
	Subjects []string       `yaml:"subjects"`
	Replicas int            `yaml:"replicas"`
	// Retention, MaxAge and MaxBytes apply to a stream the sensor creates.
	Retention string        `yaml:"retention"`
	MaxAge    time.Duration `yaml:"max_age"`
	MaxBytes  int64         `yaml:"max_bytes"`
	TLS       TLSConfig     `yaml:"tls"`
	Creds     string        `yaml:"credentials"`
	NKey      string        `yaml:"nkey"`
	User      string        `yaml:"user"`
	Password  string        `yaml:"password"`
	Outbox    OutboxConfig  `yaml:"outbox"`
}

// OutboxConfig is the on-disk outbox that keeps events while NATS is away.
type OutboxConfig struct {
	// Dir holds the outbox; empty: a directory under the user's cache
	// directory for run, memory only for replay.
	Dir      string        `yaml:"dir"`
	MaxBytes int64         `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
}

// EmbeddedConfig is for the embedded NATS server.
type EmbeddedConfig struct {
	Listen  string `yaml:"listen"`
	DataDir string `yaml:"data_dir"`
}

// TLSConfig is for connections to NATS.
type TLSConfig struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// FingerprintConfig adds rule files to the embedded defaults.
type FingerprintConfig struct {
	// Rules are YAML files of rules, owners and advisories, layered over
	// the defaults in order (a rule with a default's id replaces it).
	Rules []string `yaml:"rules"`
}

// HTTPConfig is the health and metrics endpoint.
type HTTPConfig struct {
	Listen string `yaml:"listen"`
}

// LogConfig chooses the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"` // auto, console, json
}

func defaultConfig() Config {
	return Config{
		Sensor:  SensorConfig{Name: defaultSensorName()},
		Capture: CaptureConfig{Workers: 1, Snaplen: 65535, RingMB: 32},
		Flows:   FlowConfig{MaxFlows: 262144, IdleTimeout: 2 * time.Minute},
		Reassembly: ReassemblyConfig{
			MaxBufferedPerStream: 64 << 10, MaxPendingSegments: 64, MaxBytes: 64 << 20,
		},
		Inventory: InventoryConfig{RouterMinIPs: 4, MaxAssets: 100000, UpdateInterval: 30 * time.Second},
		NATS: NATSConfig{
			Embedded: EmbeddedConfig{Listen: "127.0.0.1:4222"},
			Stream:   "IOMT", Subjects: []string{"iomt.v1.>"}, Replicas: 1,
			Outbox: OutboxConfig{MaxBytes: 256 << 20, MaxAge: 24 * time.Hour},
		},
		HTTP: HTTPConfig{Listen: "127.0.0.1:9410"},
		Log:  LogConfig{Level: "info", Format: "auto"},
	}
}

func defaultSensorName() string {
	h, err := os.Hostname()
	if err != nil || publish.ValidateSensor(h) != nil {
		return "sensor"
	}
	return h
}

// loadConfig reads and validates path over the defaults. Errors name the
// file, the line and the key.
func loadConfig(path string) (Config, error) {
	cfg := defaultConfig()
	if path == "" {
		return cfg, cfg.validate(path, nil)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, fmt.Errorf("config %s: %s", path, cleanYAMLError(err))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %s", path, cleanYAMLError(err))
	}
	return cfg, cfg.validate(path, &root)
}

var (
	reUnknown = regexp.MustCompile(`field (\S+) not found in type \S+`)
	reType    = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// cleanYAMLError rewrites yaml.v3's messages in our users' terms.
func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n  ")
	s = strings.ReplaceAll(s, "\n  ", "; ")
	s = reUnknown.ReplaceAllString(s, `unknown key "$1" (see the configuration reference in README.md)`)
	s = reType.ReplaceAllStringFunc(s, func(m string) string {
		g := reType.FindStringSubmatch(m)
		want := g[3]
		switch {
		case strings.Contains(want, "Duration"):
			want = "a duration such as 30s or 2m"
		case strings.HasPrefix(want, "[]"):
			want = "a list"
		case strings.HasPrefix(want, "main."):
			want = "a mapping of keys"
		}
		return fmt.Sprintf("%q is not %s", g[2], want)
	})
	return s
}

// lineOf returns the line of the value at path in root, or 0.
func lineOf(root *yaml.Node, path ...string) int {
	n := root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return 0
		}
		n = next
	}
	return n.Line
}

// validate checks values; root (may be nil) gives line numbers.
func (c *Config) validate(path string, root *yaml.Node) error {
	bad := func(msg string, key ...string) error {
		where := "config"
		if path != "" {
			where = "config " + path
			if line := lineOf(root, key...); line > 0 {
				where += fmt.Sprintf(": line %d", line)
			}
		}
		return fmt.Errorf("%s: %s: %s", where, strings.Join(key, "."), msg)
	}
	if err := publish.ValidateSensor(c.Sensor.Name); err != nil {
		return bad(err.Error(), "sensor", "name")
	}
	if c.Capture.Workers < 1 || c.Capture.Workers > 64 {
		return bad("must be between 1 and 64", "capture", "workers")
	}
	if c.Capture.Snaplen < 64 || c.Capture.Snaplen > 262144 {
		return bad("must be between 64 and 262144", "capture", "snaplen")
	}
	if c.Capture.RingMB < 1 || c.Capture.RingMB > 4096 {
		return bad("must be between 1 and 4096", "capture", "ring_mb")
	}
	if c.Flows.MaxFlows < 1 {
		return bad("must be at least 1", "flows", "max_flows")
	}
	if c.Flows.IdleTimeout <= 0 {
		return bad("must be a positive duration such as 2m", "flows", "idle_timeout")
	}
	if c.Reassembly.MaxBufferedPerStream < 1 || c.Reassembly.MaxPendingSegments < 1 || c.Reassembly.MaxBytes < 1 {
		return bad("limits must be positive", "reassembly")
	}
	for _, s := range c.Inventory.InternalNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			return bad(fmt.Sprintf("%q is not a network such as 10.0.0.0/8", s), "inventory", "internal_networks")
		}
	}
	if c.Inventory.RouterMinIPs < 1 {
		return bad("must be at least 1", "inventory", "router_min_ips")
	}
	if c.Inventory.MaxAssets < 1 {
		return bad("must be at least 1", "inventory", "max_assets")
	}
	if c.Inventory.UpdateInterval <= 0 {
		return bad("must be a positive duration such as 30s", "inventory", "update_interval")
	}
	if _, err := publish.RetentionPolicy(c.NATS.Retention); err != nil {
		return bad(fmt.Sprintf("%q is not one of limits, interest, workqueue", c.NATS.Retention), "nats", "retention")
	}
	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		return bad("must be between 1 and 5", "nats", "replicas")
	}
	if c.NATS.MaxAge < 0 || c.NATS.MaxBytes < 0 {
		return bad("must not be negative (0: unlimited)", "nats")
	}
	if c.NATS.Outbox.MaxBytes < 1<<20 {
		return bad("must be at least 1048576 (1 MiB)", "nats", "outbox", "max_bytes")
	}
	if c.NATS.Outbox.MaxAge <= 0 {
		return bad("must be a positive duration such as 24h", "nats", "outbox", "max_age")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad(fmt.Sprintf("%q is not one of debug, info, warn, error", c.Log.Level), "log", "level")
	}
	switch c.Log.Format {
	case "auto", "console", "json":
	default:
		return bad(fmt.Sprintf("%q is not one of auto, console, json", c.Log.Format), "log", "format")
	}
	return nil
}

// internalNets parses the configured networks (validated already).
func (c *Config) internalNets() []netip.Prefix {
	var nets []netip.Prefix
	for _, s := range c.Inventory.InternalNetworks {
		nets = append(nets, netip.MustParsePrefix(s))
	}
	return nets
}
