package publish

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fastOpts retries quickly against addr with an outbox in dir.
func fastOpts(addr, dir string) JetStreamOptions {
	return JetStreamOptions{
		URLs:         []string{"nats://" + addr},
		OutboxDir:    dir,
		AckTimeout:   time.Second,
		RetryWait:    20 * time.Millisecond,
		MaxRetryWait: 100 * time.Millisecond,
		Conn:         ConnOptions{ReconnectWait: 50 * time.Millisecond},
	}
}

func publishRange(t *testing.T, s Sink, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// closeShort closes s with a short deadline while NATS is away: the
// events must stay in the outbox.
func closeShort(t *testing.T, s *JetStreamSink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "kept in the outbox") {
		t.Fatalf("expected a deadline error keeping events, got %v", err)
	}
}

// TestOutboxOutageRestart: the server goes away, events keep coming, the
// sink is closed before they can be sent; a new sink on the same outbox
// sends them first once the server is back: all exactly once, in order.
func TestOutboxOutageRestart(t *testing.T) {
	store, outbox := t.TempDir(), t.TempDir()
	srv, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:-1", DataDir: store})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	var latencies int
	opts := fastOpts(addr, outbox)
	opts.ObserveLatency = func(d time.Duration) {
		if d > 0 {
			latencies++
		}
	}
	sink, err := NewJetStream(opts, zap.NewNop())
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	const before, n = 200, 2000
	publishRange(t, sink, 0, before)
	waitFor(t, "first events acknowledged", func() bool { return sink.Stats().Published == before })
	srv.Shutdown()
	publishRange(t, sink, before, n)
	waitFor(t, "events on disk", func() bool { return sink.Stats().OutboxMessages == n-before })
	if st := sink.Stats(); st.OutboxBytes == 0 || st.OldestAge <= 0 {
		t.Errorf("expected outbox bytes and an oldest age, got %+v", st)
	}
	closeShort(t, sink)
	if st := sink.Stats(); st.Failed != 0 || st.OutboxMessages != n-before || latencies != before {
		t.Errorf("expected %d kept, nothing failed, %d latencies; got %+v, %d latencies", n-before, before, st, latencies)
	}

	srv2 := startServer(t, store, addr)
	sink2, err := NewJetStream(fastOpts(addr, outbox), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	publishRange(t, sink2, n, n+100) // newer events go after the kept ones
	closeSink(t, sink2)
	if st := sink2.Stats(); st.Published != n-before+100 || st.OutboxMessages != 0 || st.OutboxBytes != 0 || st.OldestAge != 0 {
		t.Errorf("expected %d published and an empty outbox, got %+v", n-before+100, st)
	}
	checkExactlyOnce(t, readStream(t, srv2.ClientURL(), DefaultStream, n+100), n+100)
	if segs, _ := filepath.Glob(filepath.Join(outbox, "*"+segSuffix)); len(segs) != 0 {
		t.Errorf("expected no segment left after everything was sent, got %v", segs)
	}
}

// TestOutboxTornRecord: a crash left half a record at the end of the
// last segment; the complete records are sent, the torn one is skipped
// with a warning.
func TestOutboxTornRecord(t *testing.T) {
	outbox := t.TempDir()
	addr := freeAddr(t)
	sink, err := NewJetStream(fastOpts(addr, outbox), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	publishRange(t, sink, 0, 10)
	waitFor(t, "events on disk", func() bool { return sink.Stats().OutboxMessages == 10 })
	closeShort(t, sink)

	segs, _ := filepath.Glob(filepath.Join(outbox, "*"+segSuffix))
	if len(segs) == 0 {
		t.Fatal("expected segment files")
	}
	last := segs[len(segs)-1]
	rec := appendRecord(nil, entry{msg: testMessage("s1", 10), at: time.Now().UnixNano()})
	f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(rec[:len(rec)-3]); err != nil { // torn write
		t.Fatal(err)
	}
	f.Close()

	core, logs := observer.New(zapcore.WarnLevel)
	srv := startServer(t, t.TempDir(), addr)
	sink2, err := NewJetStream(fastOpts(addr, outbox), zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	closeSink(t, sink2)
	if logs.FilterMessageSnippet("torn or corrupt").Len() != 1 {
		t.Errorf("expected one warning about the torn record, got %v", logs.All())
	}
	checkExactlyOnce(t, readStream(t, srv.ClientURL(), DefaultStream, 10), 10)
}

// TestOutboxEvictionOrder fills a small outbox while NATS is away:
// asset.update goes first, then asset.new, then health; anomalies last.
func TestOutboxEvictionOrder(t *testing.T) {
	outbox := t.TempDir()
	addr := freeAddr(t)
	opts := fastOpts(addr, outbox)
	opts.OutboxMaxBytes = 32 << 10
	sink, err := NewJetStream(opts, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first: anomalies, then health, then asset.new, then many
	// asset.update; then more anomalies that must push out the rest.
	kinds := []struct {
		subject string
		n       int
	}{
		{"anomaly.high", 60}, {"health", 60}, {"asset.new", 60}, {"asset.update", 400}, {"anomaly.critical", 100},
	}
	var msgs []Message
	for _, k := range kinds {
		for range k.n {
			msgs = append(msgs, Message{
				Subject: "iomt.v1.s1." + k.subject,
				ID:      fmt.Sprintf("%s-%d", k.subject, len(msgs)),
				Data:    fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, len(msgs), strings.Repeat("x", 40)),
			})
		}
	}
	for _, m := range msgs {
		if err := sink.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "events written", func() bool {
		st := sink.Stats()
		return st.Queued == 0 && st.OutboxMessages+st.DroppedOverBound == uint64(len(msgs))
	})
	st := sink.Stats()
	if st.OutboxBytes > uint64(opts.OutboxMaxBytes) || st.DroppedOverBound == 0 {
		t.Errorf("expected the outbox within %d bytes after drops, got %+v", opts.OutboxMaxBytes, st)
	}
	srv := startServer(t, t.TempDir(), addr)
	closeSink(t, sink)
	got := readStream(t, srv.ClientURL(), DefaultStream, int(st.OutboxMessages))
	if len(got) != int(st.OutboxMessages) {
		t.Fatalf("expected %d messages, got %d", st.OutboxMessages, len(got))
	}
	count := map[string]int{}
	for _, s := range got {
		count[strings.TrimPrefix(s.subject, "iomt.v1.s1.")]++
	}
	t.Logf("kept by kind: %v, dropped %d", count, st.DroppedOverBound)
	if count["anomaly.high"] != 60 || count["anomaly.critical"] != 100 {
		t.Errorf("expected every anomaly kept, got %v", count)
	}
	// Dropping a class only starts once the lower ones are gone (except
	// those in the segment being read, which is never rewritten).
	if count["asset.new"] < 60 && count["asset.update"] > 50 {
		t.Errorf("asset.new dropped while asset.update remained: %v", count)
	}
	if count["asset.update"] >= 400 {
		t.Errorf("expected asset.update dropped first, got %v", count)
	}
	// Order is kept among the survivors.
	if !slices.IsSortedFunc(got, func(a, b stored) int { return indexOf(msgs, a.id) - indexOf(msgs, b.id) }) {
		t.Error("survivors out of order")
	}
}

func indexOf(msgs []Message, id string) int {
	return slices.IndexFunc(msgs, func(m Message) bool { return m.ID == id })
}

// TestOutboxAgeExpiry: events older than OutboxMaxAge are dropped and
// counted while NATS is away; newer ones still arrive.
func TestOutboxAgeExpiry(t *testing.T) {
	outbox := t.TempDir()
	addr := freeAddr(t)
	opts := fastOpts(addr, outbox)
	opts.OutboxMaxAge = 300 * time.Millisecond
	sink, err := NewJetStream(opts, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	publishRange(t, sink, 0, 20)
	waitFor(t, "events expired", func() bool {
		st := sink.Stats()
		return st.DroppedExpired == 20 && st.OutboxMessages == 0 && st.OutboxBytes == 0
	})
	srv := startServer(t, t.TempDir(), addr)
	for i := range 5 {
		m := testMessage("s1", i)
		m.ID = "fresh-" + m.ID
		if err := sink.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, sink)
	got := readStream(t, srv.ClientURL(), DefaultStream, 5)
	if len(got) != 5 || got[0].id != "fresh-id-0" || got[4].id != "fresh-id-4" {
		t.Errorf("expected the 5 fresh events only, got %v", got)
	}
	if st := sink.Stats(); st.DroppedExpired != 20 || st.Published != 5 {
		t.Errorf("expected 20 expired and 5 published, got %+v", st)
	}
}

// writePEM writes one PEM block to dir/name and returns the path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testPKI makes a throwaway CA and a server (127.0.0.1) and client
// certificate signed by it; it returns the file paths.
func testPKI(t *testing.T) (ca, srvCert, srvKey, cliCert, cliKey string) {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	ca = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", kd)
	}
	srvCert, srvKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	cliCert, cliKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return ca, srvCert, srvKey, cliCert, cliKey
}

// TestJetStreamTLSUserPassword connects over mutual TLS with a user and
// password to a server that requires both; a wrong password or a
// missing CA fails at once with a clear error.
func TestJetStreamTLSUserPassword(t *testing.T) {
	ca, srvCert, srvKey, cliCert, cliKey := testPKI(t)
	tlsCfg, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey, CaFile: ca, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: t.TempDir(),
		TLS: true, TLSVerify: true, TLSConfig: tlsCfg,
		Username: "sensor", Password: "s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("TLS server not ready")
	}
	url := fmt.Sprintf("tls://%s", srv.Addr())
	conn := func(password, caFile string) ConnOptions {
		return ConnOptions{CAFile: caFile, CertFile: cliCert, KeyFile: cliKey, User: "sensor", Password: password, ConnectTimeout: 2 * time.Second}
	}
	tests := []struct {
		name string
		conn ConnOptions
		want string // substring of the error; "" means it connects and publishes
	}{
		{"tls and password", conn("s3cret", ca), ""},
		{"wrong password", conn("wrong", ca), "check user/password"},
		{"unknown CA", conn("s3cret", cliCert), "check ca_file"},
	}
	for i, tt := range tests {
		sink, err := NewJetStream(JetStreamOptions{URLs: []string{url}, Conn: tt.conn}, zap.NewNop())
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Test %d (%s): expected an error with %q, got %v", i, tt.name, tt.want, err)
			}
			if sink != nil {
				closeSink(t, sink)
			}
			continue
		}
		if err != nil {
			t.Errorf("Test %d (%s): %v", i, tt.name, err)
			continue
		}
		publishRange(t, sink, 0, 10)
		closeSink(t, sink)
		if st := sink.Stats(); st.Published != 10 {
			t.Errorf("Test %d (%s): expected 10 published over TLS, got %+v", i, tt.name, st)
		}
	}
}

func TestParseRecordRoundTrip(t *testing.T) {
	e := entry{msg: testMessage("s1", 7), at: 12345, class: classAnomaly}
	b := appendRecord(nil, e)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"whole", b, nil},
		{"header only", b[:recHeader-1], errShortRecord},
		{"torn", b[:len(b)-1], errShortRecord},
		{"bit flip", append(slices.Clone(b[:len(b)-1]), b[len(b)-1]^1), errCorruptRecord},
		{"huge length", append([]byte{0xff, 0xff, 0xff, 0xff}, b[4:]...), errCorruptRecord},
	}
	for i, tt := range tests {
		got, n, err := parseRecord(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Test %d (%s): expected %v, got %v", i, tt.name, tt.want, err)
			continue
		}
		if err == nil && (n != len(b) || got.msg.ID != e.msg.ID || got.msg.Subject != e.msg.Subject || string(got.msg.Data) != string(e.msg.Data) || got.at != e.at || got.class != e.class) {
			t.Errorf("Test %d (%s): round trip gave %+v (%d bytes)", i, tt.name, got, n)
		}
	}
}

// FuzzParseRecord: outbox files are read back after crashes; any bytes
// must give a record, "short" or "corrupt", never a panic.
func FuzzParseRecord(f *testing.F) {
	f.Add(appendRecord(nil, entry{msg: testMessage("s1", 1), at: 1}))
	f.Add([]byte{13, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, n, err := parseRecord(b)
		if err == nil && (n > len(b) || n < recHeader+recFixed || e.size != int64(n)) {
			t.Fatalf("bad size %d for %d bytes", n, len(b))
		}
		if err == nil {
			again := appendRecord(nil, e)
			if string(again) != string(b[:n]) {
				t.Fatalf("re-encoding differs")
			}
		}
	})
}
