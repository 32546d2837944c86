package publish

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Fetch reads every message stored in stream at url, in stream order, with
// its subject and Nats-Msg-Id: a consumer's view, for checks and tools.
func Fetch(ctx context.Context, url, stream string) ([]Message, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, fmt.Errorf("fetch: connect %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("fetch: stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch: stream %s: %w", stream, err)
	}
	want := int(info.State.Msgs)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("fetch: consumer: %w", err)
	}
	out := make([]Message, 0, want)
	for len(out) < want {
		batch, err := cons.Fetch(min(500, want-len(out)), jetstream.FetchContext(ctx))
		if err != nil {
			return out, fmt.Errorf("fetch: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, Message{Subject: m.Subject(), ID: m.Headers().Get(jetstream.MsgIDHeader), Data: m.Data()})
			n++
		}
		if err := batch.Error(); err != nil {
			return out, fmt.Errorf("fetch: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}
