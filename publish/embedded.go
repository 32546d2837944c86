package publish

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// DefaultListen is where the embedded server listens unless told otherwise.
const DefaultListen = "127.0.0.1:4222"

// EmbeddedOptions configures an in-process NATS server with JetStream.
type EmbeddedOptions struct {
	// Listen is host:port; port 0 or -1 picks a random free port.
	// Empty means DefaultListen.
	Listen string
	// DataDir is the JetStream store directory (required).
	DataDir string
	// ServerName names the server in logs and monitoring; optional.
	ServerName string
	// Logger receives the server's log; nil or zap.NewNop() silences it.
	Logger *zap.Logger
	// Debug and Trace enable the server's verbose log levels.
	Debug, Trace bool
	// ReadyTimeout bounds the wait for the server to accept clients
	// (default 10s).
	ReadyTimeout time.Duration
}

// Embedded is a NATS server with JetStream running in this process.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts nats-server as a library and waits until it
// accepts client connections.
func StartEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("publish: embedded NATS: DataDir is empty; set a directory for the JetStream store")
	}
	listen := opts.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("publish: embedded NATS: listen address %q: %w; use host:port such as %q", listen, err, DefaultListen)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < -1 || port > 65535 {
		return nil, fmt.Errorf("publish: embedded NATS: listen port %q: use a number 1-65535, or 0 for a random port", portStr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	sopts := &server.Options{
		ServerName: opts.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   opts.DataDir,
		NoSigs:     true,
		NoLog:      true,
		Debug:      opts.Debug,
		Trace:      opts.Trace,
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("publish: embedded NATS: %w", err)
	}
	if opts.Logger != nil {
		srv.SetLoggerV2(zapLogger{opts.Logger.Named("nats-server").Sugar()}, opts.Debug, opts.Trace, false)
	}
	srv.Start()
	wait := opts.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	if !srv.ReadyForConnections(wait) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("publish: embedded NATS on %s not ready after %s; check that the port is free and %q is writable", listen, wait, opts.DataDir)
	}
	return &Embedded{srv: srv}, nil
}

// ClientURL returns the URL clients use to connect, e.g.
// "nats://127.0.0.1:4222".
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// Addr returns the address the server listens on.
func (e *Embedded) Addr() net.Addr { return e.srv.Addr() }

// Shutdown stops the server and waits until it has stopped.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// zapLogger adapts zap to the nats-server Logger interface.
type zapLogger struct{ s *zap.SugaredLogger }

func (l zapLogger) Noticef(format string, v ...any) { l.s.Infof(format, v...) }
func (l zapLogger) Warnf(format string, v ...any)   { l.s.Warnf(format, v...) }
func (l zapLogger) Fatalf(format string, v ...any)  { l.s.Errorf(format, v...) }
func (l zapLogger) Errorf(format string, v ...any)  { l.s.Errorf(format, v...) }
func (l zapLogger) Debugf(format string, v ...any)  { l.s.Debugf(format, v...) }
func (l zapLogger) Tracef(format string, v ...any)  { l.s.Debugf(format, v...) }
