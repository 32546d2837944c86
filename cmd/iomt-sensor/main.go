// Command iomt-sensor is a passive network discovery sensor for connected
// medical devices. It listens on a SPAN port (run) or replays capture files
// (replay), keeps an asset inventory and publishes assets to NATS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/iomt-sensor/iomt-sensor/cmd/internal/gctune"
	"github.com/iomt-sensor/iomt-sensor/cmd/internal/protolist"
	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `iomt-sensor: passive discovery of connected medical devices

Usage:
  iomt-sensor replay [flags] FILE...   replay pcap/pcapng files (gzip or not) and print the inventory
  iomt-sensor run --iface IF [flags]   capture live from a SPAN/mirror port (Linux, AF_PACKET)
  iomt-sensor rules check FILE...      validate rule files (rules, owners, advisories)
  iomt-sensor explain ASSET-ID FILE... replay files and explain how an asset was identified
  iomt-sensor version                  print the version

Run "iomt-sensor COMMAND -h" for a command's flags.
`

func main() {
	gctune.Apply()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage means the command line was wrong; usage was printed.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "replay":
		err = replayCmd(ctx, args[1:], stdout, stderr)
	case "run":
		err = liveCmd(ctx, args[1:], stdout, stderr)
	case "rules":
		err = rulesCmd(args[1:], stdout, stderr)
	case "explain":
		err = explainCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "iomt-sensor", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "iomt-sensor: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	}
	fmt.Fprintln(stderr, "iomt-sensor:", err)
	return 1
}

func buildVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + info.GoVersion
	}
	return v
}

// protocolSpecs is the list of protocol decoders (cmd/internal/protolist).
func protocolSpecs() []protocols.Spec { return protolist.Specs() }

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newLogger builds the zap logger: console on a terminal, JSON otherwise.
func newLogger(cfg LogConfig, w io.Writer) *zap.Logger {
	level := zapcore.InfoLevel
	_ = level.Set(cfg.Level)
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "console"
		}
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var encoder zapcore.Encoder
	if format == "console" {
		enc.EncodeLevel = zapcore.CapitalColorLevelEncoder
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	return zap.New(zapcore.NewCore(encoder, zapcore.AddSync(w), level))
}

// splitList splits comma-separated flag values.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
