package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	DefaultOutboxMaxBytes  = 256 << 20
	DefaultOutboxMaxAge    = 24 * time.Hour
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
	// Retention is the policy of a stream the sink creates: "limits"
	// (default: keep until MaxAge or MaxBytes), "interest" (until every
	// consumer has it) or "workqueue" (until one consumer has it).
	Retention string
	// MaxAge and MaxBytes bound a stream the sink creates (0: unlimited).
	MaxAge   time.Duration
	MaxBytes int64
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

	// OutboxDir, when set, is the directory of the on-disk outbox: every
	// accepted message is appended there and sent from there, in order,
	// so messages survive outages and restarts. Empty: memory only.
	OutboxDir string
	// OutboxMaxBytes bounds the outbox (default 256 MiB). Above it the
	// oldest asset.update messages are dropped first, then asset.new,
	// health, and anomalies last.
	OutboxMaxBytes int64
	// OutboxMaxAge drops messages that waited longer (default 24h).
	OutboxMaxAge time.Duration
	// ObserveLatency, if set, is called from the sending goroutine with
	// each message's publish-to-ack latency (e.g. a histogram's Observe).
	// It must be quick.
	ObserveLatency func(time.Duration)
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
	if o.OutboxMaxBytes <= 0 {
		o.OutboxMaxBytes = DefaultOutboxMaxBytes
	}
	if o.OutboxMaxAge <= 0 {
		o.OutboxMaxAge = DefaultOutboxMaxAge
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

// Stats are the sink's counters since creation, and a few gauges.
type Stats struct {
	Published uint64 // acknowledged by JetStream (duplicates included)
	Failed    uint64 // given up on: rejected by the server, or (no outbox) unsent when Close ended
	Retried   uint64 // publishes repeated after an error or ack timeout
	Dropped   uint64 // evicted from the full in-memory queue (asset.update first)
	Queued    uint64 // gauge: in the memory queue or awaiting an ack

	OutboxBytes      uint64        // gauge: bytes of outbox records not yet acknowledged
	OutboxMessages   uint64        // gauge: outbox records not yet acknowledged
	OldestAge        time.Duration // gauge: age of the oldest message not yet acknowledged; 0 if none
	DroppedOverBound uint64        // dropped because the outbox was full (OutboxMaxBytes)
	DroppedExpired   uint64        // dropped because older than OutboxMaxAge
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

	// ob is the on-disk outbox, nil without OutboxDir. Then Publish
	// queues in memory, the writer goroutine appends to ob, and the
	// sending goroutine reads from ob.
	ob         *outbox
	wakeWriter chan struct{}
	writerDone chan struct{}

	wake chan struct{} // a message is ready to send, or Close was called
	// stopped ends when Close's context ends: abandon what is left.
	stopped context.Context
	stop    context.CancelFunc
	done    chan struct{} // the sending goroutine has returned

	inflight                            atomic.Int64
	published, failed, retried, dropped atomic.Uint64
	oldestPending                       atomic.Int64 // accepted time (unix ns) of the oldest in flight, 0 if none
	dropLog                             logLimiter

	streamReady bool // owned by the sending goroutine
}

// NewJetStream connects to NATS, opens the outbox if configured, ensures
// the stream and starts sending. If the servers are unreachable it still
// returns a sink: messages wait until a connection and the stream are
// available. Errors a retry cannot fix (authentication, TLS, bad
// options) are returned at once.
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
	nc, err := connect(servers, nopts)
	if err != nil {
		return nil, err
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
	if opts.OutboxDir != "" {
		s.ob, err = openOutbox(opts.OutboxDir, opts.OutboxMaxBytes, opts.OutboxMaxAge, log)
		if err != nil {
			nc.Close()
			return nil, err
		}
		s.wakeWriter = make(chan struct{}, 1)
		s.writerDone = make(chan struct{})
	}
	s.stopped, s.stop = context.WithCancel(context.Background())
	if nc.IsConnected() {
		ctx, cancel := context.WithTimeout(context.Background(), opts.AckTimeout)
		err := s.ensureStream(ctx)
		cancel()
		if err != nil {
			s.stop()
			nc.Close()
			if s.ob != nil {
				s.ob.close()
			}
			return nil, err
		}
	} else {
		log.Warn("NATS not reachable yet; events wait in the queue", zap.String("servers", servers))
	}
	if s.ob != nil {
		go s.write()
	}
	go s.run()
	return s, nil
}

// connect dials once and fails on errors a retry cannot fix (bad
// credentials, TLS); when no server answers it returns a connection that
// keeps retrying in the background.
func connect(servers string, nopts []nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(servers, nopts...)
	if err == nil {
		return nc, nil
	}
	var netErr net.Error
	if !errors.Is(err, nats.ErrNoServers) && !errors.As(err, &netErr) && !errors.Is(err, syscall.ECONNREFUSED) {
		hint := ""
		switch {
		case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
			hint = "; check user/password, creds_file or nkey_seed_file"
		case strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "x509") || errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted):
			hint = "; check ca_file, cert_file, key_file and the server's TLS settings"
		}
		return nil, fmt.Errorf("publish: connecting to NATS %s: %w%s", servers, err, hint)
	}
	nc, err = nats.Connect(servers, append(nopts, nats.RetryOnFailedConnect(true))...)
	if err != nil {
		return nil, fmt.Errorf("publish: connecting to NATS %s: %w", servers, err)
	}
	return nc, nil
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
		retention, err := RetentionPolicy(s.opts.Retention)
		if err != nil {
			return err
		}
		cfg := jetstream.StreamConfig{
			Name:       s.opts.Stream,
			Subjects:   s.opts.Subjects,
			Storage:    jetstream.FileStorage,
			Replicas:   s.opts.Replicas,
			Duplicates: s.opts.DuplicateWindow,
			Retention:  retention,
			MaxAge:     s.opts.MaxAge,
			MaxBytes:   s.opts.MaxBytes,
		}
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = -1
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

// RetentionPolicy parses a stream retention name: limits, interest or
// workqueue ("" is limits).
func RetentionPolicy(name string) (jetstream.RetentionPolicy, error) {
	switch name {
	case "", "limits":
		return jetstream.LimitsPolicy, nil
	case "interest":
		return jetstream.InterestPolicy, nil
	case "workqueue":
		return jetstream.WorkQueuePolicy, nil
	}
	return 0, fmt.Errorf("publish: retention %q: use limits, interest or workqueue", name)
}

// Publish queues m and returns at once; it never waits on the network
// or the disk. When the memory queue is full the oldest asset.update
// message (else the oldest message) is dropped.
func (s *JetStreamSink) Publish(m Message) error {
	if m.Subject == "" || m.ID == "" {
		return fmt.Errorf("publish: message needs a subject and an ID (subject %q, id %q)", m.Subject, m.ID)
	}
	if len(m.Subject) > maxTokenLen || len(m.ID) > maxTokenLen {
		return fmt.Errorf("publish: subject or ID longer than %d bytes (subject %.40q…, id %.40q…)", maxTokenLen, m.Subject, m.ID)
	}
	e := entry{msg: m, at: time.Now().UnixNano(), class: classOf(m.Subject)}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	evicted := s.queue.push(e)
	s.mu.Unlock()
	if evicted {
		n := s.dropped.Add(1)
		s.dropLog.warn(s.log, "publish queue full; dropping oldest events", zap.Uint64("dropped_total", n), zap.Int("queue_size", s.opts.QueueSize))
	}
	if s.ob != nil {
		poke(s.wakeWriter)
	} else {
		poke(s.wake)
	}
	return nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// logLimiter logs a warning at most once per logEvery.
type logLimiter struct {
	mu   sync.Mutex
	last time.Time
}

const logEvery = 10 * time.Second

func (l *logLimiter) warn(log *zap.Logger, msg string, fields ...zap.Field) {
	l.mu.Lock()
	now := time.Now()
	ok := l.last.IsZero() || now.Sub(l.last) >= logEvery
	if ok {
		l.last = now
	}
	l.mu.Unlock()
	if ok {
		log.Warn(msg, fields...)
	}
}

// Stats returns the sink's counters and gauges.
func (s *JetStreamSink) Stats() Stats {
	now := time.Now().UnixNano()
	s.mu.Lock()
	queued := s.queue.len()
	oldest := s.queue.oldestAt()
	s.mu.Unlock()
	st := Stats{
		Published: s.published.Load(),
		Failed:    s.failed.Load(),
		Retried:   s.retried.Load(),
		Dropped:   s.dropped.Load(),
		Queued:    uint64(queued) + uint64(max(s.inflight.Load(), 0)),
	}
	older := func(at int64) {
		if at != 0 && (oldest == 0 || at < oldest) {
			oldest = at
		}
	}
	older(s.oldestPending.Load())
	if s.ob != nil {
		older(s.ob.expire(now))
		o := s.ob.stats()
		st.OutboxBytes = uint64(max(o.bytes, 0))
		st.OutboxMessages = uint64(max(o.msgs, 0))
		st.DroppedOverBound = o.droppedBound
		st.DroppedExpired = o.droppedExpired
	}
	if oldest != 0 {
		st.OldestAge = time.Duration(max(now-oldest, 0))
	}
	return st
}

// Close stops accepting messages, sends what is queued and waits for the
// acks until ctx is done. With an outbox, what is still unsent then stays
// on disk for the next NewJetStream on the same OutboxDir; without, it
// is counted as Failed. It closes the connection before returning.
func (s *JetStreamSink) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	poke(s.wake)
	if s.ob != nil {
		poke(s.wakeWriter)
	}
	var err error
	select {
	case <-s.done:
	case <-ctx.Done():
		s.stop()
		<-s.done
		if s.ob != nil {
			err = fmt.Errorf("publish: closing before all events were acknowledged (%d kept in the outbox for the next start): %w", s.ob.stats().msgs, ctx.Err())
		} else {
			err = fmt.Errorf("publish: closing before all events were acknowledged (%d given up): %w", s.failed.Load(), ctx.Err())
		}
	}
	s.stop()
	if s.ob != nil {
		<-s.writerDone
		if cerr := s.ob.close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.nc.Close()
	return err
}

// write is the outbox writer goroutine: it moves the memory queue to
// disk in batches and expires old records while the sender is stuck.
func (s *JetStreamSink) write() {
	defer close(s.writerDone)
	tick := time.NewTicker(min(max(s.opts.OutboxMaxAge/4, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	var batch []entry
	var lastBound uint64
	for {
		s.mu.Lock()
		batch = batch[:0]
		for len(batch) < 1024 {
			e, ok := s.queue.pop()
			if !ok {
				break
			}
			batch = append(batch, e)
		}
		closing := s.closing
		s.mu.Unlock()
		if len(batch) > 0 {
			if _, err := s.ob.append(batch); err != nil {
				s.log.Error("outbox write failed", zap.Error(err))
			}
			clear(batch)
			if st := s.ob.stats(); st.droppedBound != lastBound {
				lastBound = st.droppedBound
				s.dropLog.warn(s.log, "outbox full; dropped oldest events (asset.update first, anomalies last)",
					zap.Uint64("dropped_total", st.droppedBound), zap.Int64("outbox_max_bytes", s.opts.OutboxMaxBytes))
			}
			poke(s.wake)
			continue
		}
		if closing {
			poke(s.wake)
			return
		}
		select {
		case <-s.wakeWriter:
		case <-tick.C:
			before := s.ob.stats().droppedExpired
			s.ob.expire(time.Now().UnixNano())
			if n := s.ob.stats().droppedExpired; n != before {
				s.dropLog.warn(s.log, "outbox events older than the maximum age dropped",
					zap.Uint64("dropped_total", n), zap.Duration("outbox_max_age", s.opts.OutboxMaxAge))
			}
		}
	}
}

// flight is one message published and not yet acknowledged.
type flight struct {
	e    entry
	sent time.Time
	paf  jetstream.PubAckFuture // nil when the publish call itself failed
	err  error
}

// next takes the next message to send: earlier failures first, then the
// outbox or the memory queue.
func (s *JetStreamSink) next(retry *[]entry) (entry, bool) {
	for len(*retry) > 0 {
		e := (*retry)[0]
		*retry = (*retry)[1:]
		if s.ob != nil && time.Now().UnixNano()-e.at > int64(s.opts.OutboxMaxAge) {
			s.inflight.Add(-1)
			s.ob.dropExpired(e)
			continue
		}
		return e, true
	}
	if s.ob != nil {
		e, ok := s.ob.next(time.Now().UnixNano())
		if ok {
			s.inflight.Add(1)
		}
		return e, ok
	}
	s.mu.Lock()
	e, ok := s.queue.pop()
	if ok {
		s.inflight.Add(1)
	}
	s.mu.Unlock()
	return e, ok
}

func (s *JetStreamSink) send(e entry) *flight {
	nm := &nats.Msg{Subject: e.msg.Subject, Data: e.msg.Data, Header: nats.Header{}}
	now := time.Now()
	paf, err := s.js.PublishMsgAsync(nm, jetstream.WithMsgID(e.msg.ID))
	return &flight{e: e, sent: now, paf: paf, err: err}
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

// settle records that f is done with (acknowledged or given up) and
// tells the outbox how far everything is settled.
func (s *JetStreamSink) settle(f *flight, window []*flight, retry []entry, ok bool) {
	s.inflight.Add(-1)
	if ok && s.opts.ObserveLatency != nil {
		s.opts.ObserveLatency(time.Since(f.sent))
	}
	if s.ob != nil {
		s.ob.settled(&f.e, oldestPos(window, retry))
	}
}

// oldestPos is the outbox position of the oldest unsettled message, nil
// if all are settled.
func oldestPos(window []*flight, retry []entry) *loc {
	var p *loc
	for _, f := range window { // in outbox order: the first unsettled is the oldest
		if f != nil {
			p = &f.e.pos
			break
		}
	}
	if len(retry) > 0 && (p == nil || retry[0].pos.less(*p)) {
		p = &retry[0].pos
	}
	return p
}

func (s *JetStreamSink) noteOldest(window []*flight, retry []entry) {
	var at int64
	if len(window) > 0 && window[0] != nil {
		at = window[0].e.at
	}
	if len(retry) > 0 && (at == 0 || retry[0].at < at) {
		at = retry[0].at
	}
	s.oldestPending.Store(at)
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
		retry   []entry
		backoff = s.opts.RetryWait
	)
	defer func() { // stopped: give up on what is left, or keep it on disk
		s.oldestPending.Store(0)
		if s.ob != nil {
			var pending []*flight
			for _, f := range window {
				if f != nil {
					pending = append(pending, f)
				}
			}
			s.ob.settled(nil, oldestPos(pending, retry))
			s.inflight.Store(0)
			if n := s.ob.stats().msgs; n > 0 {
				s.log.Warn("events not acknowledged before close; kept in the outbox for the next start", zap.Int64("events", n))
			}
			return
		}
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
		s.noteOldest(window, retry)
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
			e, ok := s.next(&retry)
			if !ok {
				break
			}
			f := s.send(e)
			window = append(window, f)
			if f.err != nil {
				break
			}
		}
		if len(window) == 0 {
			if s.finished() {
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
			window[0] = nil
			window = window[1:]
			s.settle(f, window, retry, true)
			backoff = s.opts.RetryWait
			continue
		}

		// Failure: settle the whole window, keep what failed, in order.
		var failed []entry
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
				s.settle(f, window[i+1:], append(failed, retry...), true)
			case permanent(err):
				s.failed.Add(1)
				s.settle(f, window[i+1:], append(failed, retry...), false)
				s.log.Error("event rejected; not retrying", zap.String("subject", f.e.msg.Subject), zap.String("msg_id", f.e.msg.ID), zap.Error(err))
			default:
				if len(failed) == 0 {
					s.log.Debug("publish failed; will retry", zap.Error(err), zap.Duration("backoff", backoff))
				}
				failed = append(failed, f.e)
			}
		}
		window = window[:0]
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			s.streamReady = false // the stream may have been deleted
		}
		s.retried.Add(uint64(len(failed)))
		retry = append(failed, retry...)
		if len(failed) > 0 {
			s.noteOldest(window, retry)
			if !s.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, s.opts.MaxRetryWait)
		}
	}
}

// finished reports that the sink is closing and everything was sent.
func (s *JetStreamSink) finished() bool {
	s.mu.Lock()
	closing, empty := s.closing, s.queue.len() == 0
	s.mu.Unlock()
	if !closing {
		return false
	}
	if s.ob == nil {
		return empty
	}
	select {
	case <-s.writerDone:
		return !s.ob.hasUnread(time.Now().UnixNano())
	default:
		return false
	}
}
