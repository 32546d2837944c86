package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Defaults of JetStreamOptions.
const (
	DefaultStream          = "IOMT"
	DefaultSubjects        = SubjectPrefix + ".>"
	DefaultQueueSize       = 10000
	DefaultMaxInFlight     = 256
	DefaultAckTimeout      = 5 * time.Second
	DefaultRetryWait       = 100 * time.Millisecond
	DefaultMaxRetryWait    = 5 * time.Second
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultReconnectWait   = time.Second
)

// ConnOptions describes how to reach and authenticate to NATS. Every file
// is checked when the sink is created, and errors name the option.
type ConnOptions struct {
	// Name is the client connection name shown by the server.
	Name string
	// CAFile is a PEM bundle used to verify the server (enables TLS).
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key for
	// mutual TLS; set both or neither.
	CertFile, KeyFile string
	// CredsFile is a NATS .creds file (user JWT and NKey seed).
	CredsFile string
	// NKeySeedFile is a file holding a user NKey seed.
	NKeySeedFile string
	// User and Password authenticate with a username and password.
	User, Password string
	// ReconnectWait is the pause between reconnect attempts (default 1s);
	// ReconnectJitter adds up to this much random delay.
	ReconnectWait, ReconnectJitter time.Duration
	// MaxReconnects bounds reconnect attempts; 0 means retry forever.
	MaxReconnects int
	// ConnectTimeout bounds each dial (nats.go default when 0).
	ConnectTimeout time.Duration
}

// JetStreamOptions configures a JetStreamSink. Zero values take the
// defaults above.
type JetStreamOptions struct {
	// URLs lists servers; each entry may itself be comma-separated.
	URLs []string
	// Stream is the JetStream stream name (default "IOMT").
	Stream string
	// Subjects the stream captures (default "iomt.v1.>").
	Subjects []string
	// Replicas of the stream in a cluster (default 1).
	Replicas int
	// DuplicateWindow is how long the server remembers message IDs; a
	// retry later than this after a lost ack may be stored twice.
	DuplicateWindow time.Duration
	// QueueSize bounds the messages waiting in memory (default 10000).
	QueueSize int
	// MaxInFlight bounds publishes awaiting an ack (default 256).
	MaxInFlight int
	// AckTimeout is how long to wait for one ack before retrying.
	AckTimeout time.Duration
	// RetryWait is the first pause after a failure, doubled up to
	// MaxRetryWait while failures continue.
	RetryWait, MaxRetryWait time.Duration
	// Conn holds connection and authentication settings.
	Conn ConnOptions
}

func (o *JetStreamOptions) setDefaults() {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if len(o.Subjects) == 0 {
		o.Subjects = []string{DefaultSubjects}
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.RetryWait <= 0 {
		o.RetryWait = DefaultRetryWait
	}
	if o.MaxRetryWait < o.RetryWait {
		o.MaxRetryWait = max(DefaultMaxRetryWait, o.RetryWait)
	}
	if o.Conn.ReconnectWait <= 0 {
		o.Conn.ReconnectWait = DefaultReconnectWait
	}
}

// serverList joins URLs, splitting comma-separated entries.
func serverList(urls []string) string {
	var out []string
	for _, u := range urls {
		for p := range strings.SplitSeq(u, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return strings.Join(out, ",")
}

// natsOptions turns c into nats.go options, checking every file first.
func (c ConnOptions) natsOptions() ([]nats.Option, error) {
	readable := func(option, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("publish: NATS option %s: %w", option, err)
		}
		return f.Close()
	}
	var opts []nats.Option
	if c.Name != "" {
		opts = append(opts, nats.Name(c.Name))
	}
	if c.CAFile != "" {
		if err := readable("ca_file", c.CAFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, fmt.Errorf("publish: NATS options cert_file and key_file: set both for mutual TLS, or neither")
	}
	if c.CertFile != "" {
		if err := readable("cert_file", c.CertFile); err != nil {
			return nil, err
		}
		if err := readable("key_file", c.KeyFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	auth := 0
	if c.CredsFile != "" {
		auth++
		if err := readable("creds_file", c.CredsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeySeedFile != "" {
		auth++
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("publish: NATS option nkey_seed_file %q: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.User != "" || c.Password != "" {
		auth++
		if c.User == "" {
			return nil, fmt.Errorf("publish: NATS option password is set without user; set user too")
		}
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if auth > 1 {
		return nil, fmt.Errorf("publish: NATS options creds_file, nkey_seed_file and user/password are exclusive; keep one")
	}
	maxReconnects := c.MaxReconnects
	if maxReconnects == 0 {
		maxReconnects = -1
	}
	opts = append(opts,
		nats.MaxReconnects(maxReconnects),
		nats.ReconnectWait(c.ReconnectWait),
		nats.RetryOnFailedConnect(true),
		// No client-side buffering while disconnected: the sink keeps
		// its own bounded queue, and buffered publishes flushed on
		// reconnect would overtake the sink's retries.
		nats.ReconnectBufSize(-1),
	)
	if c.ReconnectJitter > 0 {
		opts = append(opts, nats.ReconnectJitter(c.ReconnectJitter, c.ReconnectJitter))
	}
	if c.ConnectTimeout > 0 {
		opts = append(opts, nats.Timeout(c.ConnectTimeout))
	}
	return opts, nil
}

// Stats are the sink's counters since creation.
type Stats struct {
	Published uint64 // acknowledged by JetStream (duplicates included)
	Failed    uint64 // given up on: rejected by the server, or unsent when Close ended
	Retried   uint64 // publishes repeated after an error or ack timeout
	Dropped   uint64 // evicted from the full queue (asset.update first)
	Queued    uint64 // gauge: accepted and not yet acknowledged or given up on
}

// JetStreamSink publishes messages to a JetStream stream. Publish only
// queues; one goroutine sends, waits for acks and retries.
type JetStreamSink struct {
	opts JetStreamOptions
	log  *zap.Logger
	nc   *nats.Conn
	js   jetstream.JetStream

	mu      sync.Mutex
	queue   boundedQueue
	closing bool

	wake chan struct{} // a message was queued, or Close was called
	// stopped ends when Close's context ends: abandon what is left.
	stopped context.Context
	stop    context.CancelFunc
	done    chan struct{} // the sending goroutine has returned

	inflight                            atomic.Int64
	published, failed, retried, dropped atomic.Uint64

	streamReady bool // owned by the sending goroutine
}

// NewJetStream connects to NATS, ensures the stream and starts the
// sending goroutine. If the servers are unreachable it still returns a
// sink: messages wait in the queue until a connection and the stream are
// available.
func NewJetStream(opts JetStreamOptions, log *zap.Logger) (*JetStreamSink, error) {
	if log == nil {
		log = zap.NewNop()
	}
	opts.setDefaults()
	servers := serverList(opts.URLs)
	if servers == "" {
		return nil, fmt.Errorf("publish: NATS option urls is empty; give at least one server URL, or use the embedded server")
	}
	nopts, err := opts.Conn.natsOptions()
	if err != nil {
		return nil, err
	}
	log = log.With(zap.String("stream", opts.Stream))
	nopts = append(nopts,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // closed on purpose
			}
			log.Warn("NATS disconnected; queueing events", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
	)
	nc, err := nats.Connect(servers, nopts...)
	if err != nil {
		return nil, fmt.Errorf("publish: connecting to NATS %s: %w", servers, err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(opts.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(opts.AckTimeout),
	)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("publish: JetStream: %w", err)
	}
	s := &JetStreamSink{
		opts:  opts,
		log:   log,
		nc:    nc,
		js:    js,
		queue: boundedQueue{limit: opts.QueueSize},
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	s.stopped, s.stop = context.WithCancel(context.Background())
	if nc.IsConnected() {
		ctx, cancel := context.WithTimeout(context.Background(), opts.AckTimeout)
		err := s.ensureStream(ctx)
		cancel()
		if err != nil {
			s.stop()
			nc.Close()
			return nil, err
		}
	} else {
		log.Warn("NATS not reachable yet; events wait in the queue", zap.String("servers", servers))
	}
	go s.run()
	return s, nil
}

// ensureStream binds to the stream if it exists, leaving its
// configuration to its operators, or creates it.
func (s *JetStreamSink) ensureStream(ctx context.Context) error {
	st, err := s.js.Stream(ctx, s.opts.Stream)
	switch {
	case err == nil:
		if got := st.CachedInfo().Config.Subjects; !slices.Equal(got, s.opts.Subjects) {
			s.log.Warn("existing stream has other subjects; using it as is",
				zap.Strings("stream_subjects", got), zap.Strings("wanted", s.opts.Subjects))
		}
	case errors.Is(err, jetstream.ErrStreamNotFound):
		cfg := jetstream.StreamConfig{
			Name:       s.opts.Stream,
			Subjects:   s.opts.Subjects,
			Storage:    jetstream.FileStorage,
			Replicas:   s.opts.Replicas,
			Duplicates: s.opts.DuplicateWindow,
		}
		// Another sensor may create it at the same time; creating a
		// stream with the same configuration succeeds.
		if _, err := s.js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("publish: creating JetStream stream %q over %v: %w", s.opts.Stream, s.opts.Subjects, err)
		}
		s.log.Info("created stream", zap.Strings("subjects", s.opts.Subjects))
	default:
		return fmt.Errorf("publish: looking up JetStream stream %q: %w", s.opts.Stream, err)
	}
	s.streamReady = true
	return nil
}

// Publish queues m and returns at once. When the queue is full the
// oldest asset.update message (else the oldest message) is dropped.
func (s *JetStreamSink) Publish(m Message) error {
	if m.Subject == "" || m.ID == "" {
		return fmt.Errorf("publish: message needs a subject and an ID (subject %q, id %q)", m.Subject, m.ID)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	evicted := s.queue.push(m)
	s.mu.Unlock()
	if evicted {
		if n := s.dropped.Add(1); n == 1 || n%1000 == 0 {
			s.log.Warn("publish queue full; dropping oldest events", zap.Uint64("dropped_total", n), zap.Int("queue_size", s.opts.QueueSize))
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Stats returns the sink's counters.
func (s *JetStreamSink) Stats() Stats {
	s.mu.Lock()
	queued := s.queue.len()
	s.mu.Unlock()
	return Stats{
		Published: s.published.Load(),
		Failed:    s.failed.Load(),
		Retried:   s.retried.Load(),
		Dropped:   s.dropped.Load(),
		Queued:    uint64(queued) + uint64(max(s.inflight.Load(), 0)),
	}
}

// Close stops accepting messages, sends what is queued and waits for the
// acks until ctx is done; what is still unsent then is counted as Failed.
// It closes the connection before returning.
func (s *JetStreamSink) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	var err error
	select {
	case <-s.done:
	case <-ctx.Done():
		s.stop()
		<-s.done
		err = fmt.Errorf("publish: closing before all events were acknowledged (%d given up): %w", s.failed.Load(), ctx.Err())
	}
	s.stop()
	s.nc.Close()
	return err
}

// flight is one message published and not yet acknowledged.
type flight struct {
	msg Message
	paf jetstream.PubAckFuture // nil when the publish call itself failed
	err error
}

// next takes the next message to send: earlier failures first, then the
// queue. It reports whether the sink is closing and everything is sent.
func (s *JetStreamSink) next(retry *[]Message) (Message, bool) {
	if len(*retry) > 0 {
		m := (*retry)[0]
		*retry = (*retry)[1:]
		return m, true
	}
	s.mu.Lock()
	m, ok := s.queue.pop()
	if ok {
		s.inflight.Add(1)
	}
	s.mu.Unlock()
	return m, ok
}

func (s *JetStreamSink) send(m Message) *flight {
	nm := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
	paf, err := s.js.PublishMsgAsync(nm, jetstream.WithMsgID(m.ID))
	return &flight{msg: m, paf: paf, err: err}
}

// permanent reports errors that a retry cannot fix.
func permanent(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 400 || apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum
	}
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) || errors.Is(err, nats.ErrInvalidMsg)
}

// sleep waits d unless the sink is stopped; it reports false on stop.
func (s *JetStreamSink) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stopped.Done():
		return false
	}
}

// run is the sending goroutine. It keeps up to MaxInFlight publishes
// outstanding, in queue order, and settles them oldest first. After a
// failure it waits for every outstanding publish to settle, backs off,
// and resends the failed ones in their original order before anything
// newer; the Nats-Msg-Id makes resends of stored messages harmless.
func (s *JetStreamSink) run() {
	defer close(s.done)
	var (
		window  []*flight
		retry   []Message
		backoff = s.opts.RetryWait
	)
	defer func() { // stopped: give up on what is left
		s.mu.Lock()
		n := len(window) + len(retry) + s.queue.len()
		s.queue = boundedQueue{limit: s.opts.QueueSize}
		s.mu.Unlock()
		s.inflight.Store(0)
		if n > 0 {
			s.failed.Add(uint64(n))
			s.log.Error("events not acknowledged before close; giving up", zap.Int("events", n))
		}
	}()
	for {
		if !s.streamReady {
			ctx, cancel := context.WithTimeout(s.stopped, s.opts.AckTimeout)
			err := s.ensureStream(ctx)
			cancel()
			if err != nil {
				s.log.Debug("stream not ready", zap.Error(err))
				if !s.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, s.opts.MaxRetryWait)
				continue
			}
		}
		// Send more unless the newest send failed: nothing may overtake
		// a message waiting to be resent.
		for len(window) < s.opts.MaxInFlight && (len(window) == 0 || window[len(window)-1].err == nil) {
			m, ok := s.next(&retry)
			if !ok {
				break
			}
			f := s.send(m)
			window = append(window, f)
			if f.err != nil {
				break
			}
		}
		if len(window) == 0 {
			s.mu.Lock()
			finished := s.closing && s.queue.len() == 0
			s.mu.Unlock()
			if finished {
				window = nil
				return
			}
			select {
			case <-s.wake:
			case <-s.stopped.Done():
				return
			}
			continue
		}

		f := window[0]
		err := f.err
		if err == nil {
			var refill <-chan struct{}
			if len(window) < s.opts.MaxInFlight && window[len(window)-1].err == nil {
				refill = s.wake
			}
			select {
			case <-f.paf.Ok():
			case err = <-f.paf.Err():
				f.err = err // the channel yields the error only once
			case <-refill:
				continue
			case <-s.stopped.Done():
				return
			}
		}
		if err == nil {
			s.published.Add(1)
			s.inflight.Add(-1)
			window[0] = nil
			window = window[1:]
			backoff = s.opts.RetryWait
			continue
		}

		// Failure: settle the whole window, keep what failed, in order.
		var failed []Message
		for i, f := range window {
			err := f.err
			if err == nil && f.paf != nil {
				select {
				case <-f.paf.Ok():
				case err = <-f.paf.Err():
				case <-s.stopped.Done():
					window = window[i:]
					retry = append(failed, retry...)
					return
				}
			}
			switch {
			case err == nil:
				s.published.Add(1)
				s.inflight.Add(-1)
			case permanent(err):
				s.failed.Add(1)
				s.inflight.Add(-1)
				s.log.Error("event rejected; not retrying", zap.String("subject", f.msg.Subject), zap.String("msg_id", f.msg.ID), zap.Error(err))
			default:
				if len(failed) == 0 {
					s.log.Debug("publish failed; will retry", zap.Error(err), zap.Duration("backoff", backoff))
				}
				failed = append(failed, f.msg)
			}
		}
		window = window[:0]
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			s.streamReady = false // the stream may have been deleted
		}
		s.retried.Add(uint64(len(failed)))
		retry = append(failed, retry...)
		if len(failed) > 0 {
			if !s.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, s.opts.MaxRetryWait)
		}
	}
}
