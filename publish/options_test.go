package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestConnOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present.pem")
	if err := os.WriteFile(present, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name string
		opts ConnOptions
		want string // substring of the error; "" means no error
	}{
		{"none", ConnOptions{}, ""},
		{"ca missing", ConnOptions{CAFile: missing}, "ca_file"},
		{"cert without key", ConnOptions{CertFile: present}, "cert_file and key_file"},
		{"key missing", ConnOptions{CertFile: present, KeyFile: missing}, "key_file"},
		{"creds missing", ConnOptions{CredsFile: missing}, "creds_file"},
		{"nkey missing", ConnOptions{NKeySeedFile: missing}, "nkey_seed_file"},
		{"nkey not a seed", ConnOptions{NKeySeedFile: present}, "nkey_seed_file"},
		{"password without user", ConnOptions{Password: "p"}, "without user"},
		{"two auth methods", ConnOptions{CredsFile: present, User: "u"}, "exclusive"},
		{"user", ConnOptions{User: "u", Password: "p"}, ""},
	}
	for i, tt := range tests {
		_, err := tt.opts.natsOptions()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Test %d (%s): expected no error, got %v", i, tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Test %d (%s): expected error containing %q, got %v", i, tt.name, tt.want, err)
		}
	}
}

func TestNewJetStreamNeedsURL(t *testing.T) {
	if _, err := NewJetStream(JetStreamOptions{URLs: []string{" , "}}, zap.NewNop()); err == nil || !strings.Contains(err.Error(), "urls") {
		t.Errorf("expected an error naming urls, got %v", err)
	}
}

func TestServerList(t *testing.T) {
	got := serverList([]string{"nats://a:4222, nats://b:4222", "", "nats://c:4222"})
	if want := "nats://a:4222,nats://b:4222,nats://c:4222"; got != want {
		t.Errorf("expected %q, got %q", want, got)
	}
}

func TestStartEmbeddedErrors(t *testing.T) {
	tests := []struct {
		opts EmbeddedOptions
		want string
	}{
		{EmbeddedOptions{}, "DataDir"},
		{EmbeddedOptions{DataDir: t.TempDir(), Listen: "4222"}, "host:port"},
		{EmbeddedOptions{DataDir: t.TempDir(), Listen: "127.0.0.1:http"}, "port"},
		{EmbeddedOptions{DataDir: t.TempDir(), Listen: "127.0.0.1:70000"}, "port"},
	}
	for i, tt := range tests {
		if _, err := StartEmbedded(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Test %d: expected error containing %q, got %v", i, tt.want, err)
		}
	}
}

func TestStartEmbeddedRandomPort(t *testing.T) {
	e := startServer(t, t.TempDir(), "127.0.0.1:0")
	addr := e.Addr().String()
	if strings.HasSuffix(addr, ":0") || strings.HasSuffix(addr, ":4222") {
		t.Errorf("expected a random port, got %s", addr)
	}
	if !strings.HasSuffix(e.ClientURL(), addr) {
		t.Errorf("expected ClientURL on %s, got %s", addr, e.ClientURL())
	}
}
