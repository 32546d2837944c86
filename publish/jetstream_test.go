package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// startServer starts an embedded server on listen storing in dir and
// stops it at the end of the test.
func startServer(t testing.TB, dir, listen string) *Embedded {
	t.Helper()
	e, err := StartEmbedded(EmbeddedOptions{Listen: listen, DataDir: dir, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

// stored is one message read back from the stream.
type stored struct {
	subject, id, data string
}

// readStream reads every message of stream with an ordered consumer,
// until want messages arrived and one more fetch comes back empty.
func readStream(t *testing.T, url, stream string, want int) []stored {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []stored
	add := func(batch jetstream.MessageBatch) int {
		n := 0
		for m := range batch.Messages() {
			out = append(out, stored{m.Subject(), m.Headers().Get(jetstream.MsgIDHeader), string(m.Data())})
			n++
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for len(out) < want {
		batch, err := cons.Fetch(min(500, want-len(out)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if add(batch) == 0 {
			return out
		}
	}
	// Anything beyond want (a duplicate) is stored already: take it too.
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			t.Fatal(err)
		}
		if add(batch) == 0 {
			return out
		}
	}
}

func testMessage(sensor string, i int) Message {
	subj := fmt.Sprintf("iomt.v1.%s.asset.new", sensor)
	switch i % 3 {
	case 1:
		subj = fmt.Sprintf("iomt.v1.%s.asset.update", sensor)
	case 2:
		subj = fmt.Sprintf("iomt.v1.%s.anomaly.high", sensor)
	}
	return Message{Subject: subj, ID: "id-" + strconv.Itoa(i), Data: fmt.Appendf(nil, `{"n":%d}`, i)}
}

// checkExactlyOnce checks that got holds messages 0..n-1, each once, in
// publish order.
func checkExactlyOnce(t *testing.T, got []stored, n int) {
	t.Helper()
	seen := make(map[string]int, len(got))
	for i, s := range got {
		if prev, ok := seen[s.id]; ok {
			t.Errorf("message %s stored twice (positions %d and %d)", s.id, prev, i)
		}
		seen[s.id] = i
	}
	for i := range n {
		if _, ok := seen["id-"+strconv.Itoa(i)]; !ok {
			t.Errorf("message id-%d missing", i)
		}
	}
	if len(got) != n {
		t.Errorf("expected %d messages, got %d", n, len(got))
	}
	for i, s := range got {
		want := testMessage("s1", i)
		if i < n && (s.id != want.ID || s.subject != want.Subject || s.data != string(want.Data)) {
			t.Errorf("position %d: expected %s %s %s, got %s %s %s", i, want.Subject, want.ID, want.Data, s.subject, s.id, s.data)
			break
		}
	}
}

func closeSink(t *testing.T, s Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestJetStreamInOrder(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:-1")
	sink, err := NewJetStream(JetStreamOptions{URLs: []string{srv.ClientURL()}, MaxInFlight: 64}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := range n {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, sink)
	if st := sink.Stats(); st.Published != n || st.Failed != 0 || st.Dropped != 0 || st.Queued != 0 {
		t.Errorf("expected %d published and nothing else, got %+v", n, st)
	}
	checkExactlyOnce(t, readStream(t, srv.ClientURL(), DefaultStream, n), n)
}

func TestJetStreamDuplicateID(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:-1")
	sink, err := NewJetStream(JetStreamOptions{URLs: []string{srv.ClientURL()}}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("s1", 0)
	for range 2 {
		if err := sink.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Publish(testMessage("s1", 1)); err != nil {
		t.Fatal(err)
	}
	closeSink(t, sink)
	if st := sink.Stats(); st.Published != 3 {
		t.Errorf("expected 3 acks (one duplicate), got %+v", st)
	}
	checkExactlyOnce(t, readStream(t, srv.ClientURL(), DefaultStream, 2), 2)
}

// TestJetStreamOutage restarts the server on the same port and store
// while events keep coming: everything must arrive exactly once.
func TestJetStreamOutage(t *testing.T) {
	dir := t.TempDir()
	srv, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:-1", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	sink, err := NewJetStream(JetStreamOptions{
		URLs:         []string{srv.ClientURL()},
		AckTimeout:   time.Second,
		RetryWait:    20 * time.Millisecond,
		MaxRetryWait: 200 * time.Millisecond,
		Conn:         ConnOptions{ReconnectWait: 50 * time.Millisecond},
	}, zaptest.NewLogger(t))
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	const n = 3000
	i := 0
	for ; i < n/3; i++ {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Shutdown() // mid-way: some messages are in flight
	for ; i < 2*n/3; i++ {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Let the sink notice the outage before the server returns.
	for deadline := time.Now().Add(5 * time.Second); sink.Stats().Retried == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if st := sink.Stats(); st.Published >= 2*n/3 || st.Retried == 0 {
		t.Errorf("expected the outage to hold events back and cause retries, got %+v", st)
	}
	srv2 := startServer(t, dir, addr)
	for ; i < n; i++ {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, sink)
	st := sink.Stats()
	t.Logf("stats: %+v", st)
	if st.Failed != 0 || st.Dropped != 0 || st.Queued != 0 {
		t.Errorf("expected nothing failed, dropped or queued, got %+v", st)
	}
	checkExactlyOnce(t, readStream(t, srv2.ClientURL(), DefaultStream, n), n)
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestJetStreamQueueBound starts with no server: Publish must not block,
// the queue keeps the newest QueueSize events (asset.update dropped
// first), and those arrive once a server appears.
func TestJetStreamQueueBound(t *testing.T) {
	addr := freeAddr(t)
	sink, err := NewJetStream(JetStreamOptions{
		URLs:         []string{"nats://" + addr},
		QueueSize:    100,
		RetryWait:    20 * time.Millisecond,
		MaxRetryWait: 100 * time.Millisecond,
		Conn:         ConnOptions{ReconnectWait: 50 * time.Millisecond},
	}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	const n = 300 // a third are asset.update
	for i := range n {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := sink.Stats(); st.Dropped != n-100 || st.Queued != 100 {
		t.Errorf("expected %d dropped and 100 queued, got %+v", n-100, st)
	}
	srv := startServer(t, t.TempDir(), addr)
	closeSink(t, sink)
	got := readStream(t, srv.ClientURL(), DefaultStream, 100)
	if len(got) != 100 {
		t.Fatalf("expected 100 messages, got %d", len(got))
	}
	// All 100 updates went first; then the oldest others (ids 0, 2, 3, 5…).
	for _, s := range got {
		if isAssetUpdate(s.subject) {
			t.Fatalf("expected asset.update to be dropped first, got %s", s.id)
		}
	}
	if got[0].id != "id-150" || got[99].id != "id-299" {
		t.Errorf("expected ids id-150..id-299, got %s..%s", got[0].id, got[99].id)
	}
	if st := sink.Stats(); st.Published != 100 {
		t.Errorf("expected 100 published, got %+v", st)
	}
}

// TestJetStreamBindsExistingStream checks that a stream made by its
// operators is used as is, not reconfigured.
func TestJetStreamBindsExistingStream(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:-1")
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := jetstream.StreamConfig{Name: "OPS", Subjects: []string{"iomt.>"}, Storage: jetstream.MemoryStorage, Duplicates: time.Minute}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	sink, err := NewJetStream(JetStreamOptions{URLs: []string{srv.ClientURL()}, Stream: "OPS"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, sink)
	st, err := js.Stream(ctx, "OPS")
	if err != nil {
		t.Fatal(err)
	}
	got := st.CachedInfo()
	if got.Config.Storage != jetstream.MemoryStorage || got.Config.Subjects[0] != "iomt.>" || got.State.Msgs != 10 {
		t.Errorf("expected the memory stream over iomt.> with 10 messages, got %v %v %d", got.Config.Storage, got.Config.Subjects, got.State.Msgs)
	}
}

// TestJetStreamCloseGivesUp checks that Close returns when its context
// ends while NATS is unreachable, counting the unsent events as failed.
func TestJetStreamCloseGivesUp(t *testing.T) {
	sink, err := NewJetStream(JetStreamOptions{URLs: []string{"nats://" + freeAddr(t)}}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := sink.Publish(testMessage("s1", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := sink.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expected a deadline error, got %v", err)
	}
	if st := sink.Stats(); st.Failed != 5 || st.Queued != 0 || st.Published != 0 {
		t.Errorf("expected 5 failed and nothing queued, got %+v", st)
	}
	if err := sink.Publish(testMessage("s1", 9)); !errors.Is(err, ErrClosed) {
		t.Errorf("expected ErrClosed after Close, got %v", err)
	}
}
