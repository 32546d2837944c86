package publish

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// benchPayload is about the size of a small asset event.
var benchPayload = []byte(`{"schema":"iomt.asset/v1","id":"mac:00:1b:21:3a:4f:10","sensor":"icu-span-1","mac":"00:1b:21:3a:4f:10","ips":["10.20.3.14"],"vendor":"GE Healthcare","model":"Revolution CT","category":"imaging.ct","confidence":0.93,"medical":true,"protocols":["dicom","dhcp"]}`)

// BenchmarkPublishJetStream measures end-to-end throughput of the
// JetStreamSink against an embedded server: queue, publish, ack.
func BenchmarkPublishJetStream(b *testing.B) {
	benchJetStream(b, JetStreamOptions{})
}

// BenchmarkPublishJetStreamOutbox is the same through the on-disk
// outbox: queue, append to disk, read back, publish, ack.
func BenchmarkPublishJetStreamOutbox(b *testing.B) {
	benchJetStream(b, JetStreamOptions{OutboxDir: b.TempDir()})
}

func benchJetStream(b *testing.B, opts JetStreamOptions) {
	srv := startServer(b, b.TempDir(), "127.0.0.1:-1")
	opts.URLs = []string{srv.ClientURL()}
	opts.QueueSize = max(b.N, 1)
	opts.OutboxMaxBytes = int64(max(b.N, 1)) * 1024
	sink, err := NewJetStream(opts, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "bench-" + strconv.Itoa(i)
	}
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := sink.Publish(Message{Subject: "iomt.v1.bench.asset.update", ID: ids[i], Data: benchPayload}); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := sink.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if st := sink.Stats(); st.Published != uint64(b.N) {
		b.Fatalf("expected %d published, got %+v", b.N, st)
	}
}

// BenchmarkPublishCore is the baseline: plain core NATS publishes, no
// JetStream, no acks, flushed at the end.
func BenchmarkPublishCore(b *testing.B) {
	srv := startServer(b, b.TempDir(), "127.0.0.1:-1")
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := nc.Publish("bench.core", benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
