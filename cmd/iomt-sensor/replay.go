package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/decode"
	"github.com/iomt-sensor/iomt-sensor/sensor/flow"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
	"github.com/iomt-sensor/iomt-sensor/sensor/reassembly"
)

// commonFlags are the flags replay and run share.
type commonFlags struct {
	config, events, nats, sensor string
	rules                        []string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML configuration `FILE`")
	fs.StringVar(&c.events, "events", "", "write every published event as JSON lines to `FILE`")
	fs.StringVar(&c.nats, "nats", "", "NATS server `URLs`, comma-separated; \"off\" publishes nothing (default: the embedded server)")
	fs.StringVar(&c.sensor, "sensor", "", "sensor `name` in subjects and assets (default: config sensor.name, else the host name)")
	fs.Func("rules", "a YAML `FILE` of fingerprint rules, owners and advisories over the defaults (repeatable)", func(v string) error {
		c.rules = append(c.rules, v)
		return nil
	})
}

// load reads the configuration and applies the flags over it.
func (c *commonFlags) load() (Config, error) {
	cfg, err := loadConfig(c.config)
	if err != nil {
		return cfg, err
	}
	if c.sensor != "" {
		cfg.Sensor.Name = c.sensor
		if err := cfg.validate("", nil); err != nil {
			return cfg, fmt.Errorf("--sensor: %w", err)
		}
	}
	if c.nats != "" {
		cfg.NATS.URLs = splitList(c.nats)
	}
	cfg.Fingerprint.Rules = append(cfg.Fingerprint.Rules, c.rules...)
	return cfg, nil
}

// fingerprintEngine loads the embedded rules and the configured files.
func fingerprintEngine(cfg Config) (*fingerprint.Engine, error) {
	files := fingerprint.Defaults()
	for _, path := range cfg.Fingerprint.Rules {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		files = append(files, fingerprint.File{Name: path, Data: data})
	}
	e, err := fingerprint.New(files...)
	if err != nil {
		return nil, fmt.Errorf("rules: %w (check a file with: iomt-sensor rules check FILE)", err)
	}
	return e, nil
}

func workerConfig(cfg Config, anomalies *anomaly.Detector) sensor.Config {
	return sensor.Config{
		Anomalies: anomalies,
		Flow:      flow.Config{MaxFlows: cfg.Flows.MaxFlows, IdleTimeout: cfg.Flows.IdleTimeout},
		Reassembly: reassembly.Config{
			MaxBufferedPerStream: cfg.Reassembly.MaxBufferedPerStream,
			MaxPendingSegments:   cfg.Reassembly.MaxPendingSegments,
			MaxPoolBytes:         cfg.Reassembly.MaxBytes,
		},
	}
}

func inventoryConfig(cfg Config, fp *fingerprint.Engine) inventory.Config {
	return inventory.Config{
		Fingerprint:    fp,
		Sensor:         cfg.Sensor.Name,
		InternalNets:   cfg.internalNets(),
		RouterMinIPs:   cfg.Inventory.RouterMinIPs,
		MaxAssets:      cfg.Inventory.MaxAssets,
		UpdateInterval: cfg.Inventory.UpdateInterval,
	}
}

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	format := fs.String("format", "table", "inventory printed at the end: table, json or csv")
	inventoryPath := fs.String("inventory", "", "write the final inventory as a JSON array of assets to `FILE`")
	realtime := fs.Bool("realtime", false, "replay at the capture's own pace instead of as fast as possible")
	workers := fs.Int("workers", sensor.DefaultWorkers(), "packet workers sharing the capture by flow, one per core")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: iomt-sensor replay [flags] FILE...\n\nReplays pcap or pcapng files (gzip-compressed or not), merged in timestamp order.\n\n")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "iomt-sensor replay: name at least one capture file")
		fs.Usage()
		return errUsage
	}
	switch *format {
	case "table", "json", "csv":
	default:
		return fmt.Errorf("--format %q: use table, json or csv", *format)
	}
	if *workers < 1 || *workers > capture.MaxShards {
		return fmt.Errorf("--workers %d: use 1 to %d", *workers, capture.MaxShards)
	}
	if *realtime {
		*workers = 1 // pacing holds one reader back, not several
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	defer log.Sync()

	src, err := capture.OpenFiles(files, func(err error) {
		log.Warn("capture file is cut short; processed the packets it holds", zap.Error(err))
	})
	if err != nil {
		return err
	}
	// Read ahead on another core, and split the packets by flow between
	// the workers.
	srcs := capture.PrefetchShards(src, *workers, decode.FlowHash)
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	if *realtime {
		srcs[0] = &paced{Source: srcs[0], ctx: ctx}
	}

	fp, err := fingerprintEngine(cfg)
	if err != nil {
		return err
	}
	pub, err := openPublisher(ctx, cfg, common.events, true, nil, log)
	if err != nil {
		return err
	}
	defer pub.shutdown()
	inv, det := newInventory(cfg, fp, pub)
	ws := sensor.NewWorkers(*workers, workerConfig(cfg, det), protocolSpecs(), inv)

	var stopProgress func()
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		stopProgress = startProgress(f, files, srcs[0].Stats)
	}
	started := time.Now()
	runErr := sensor.RunAll(ctx, srcs, ws)
	if stopProgress != nil {
		stopProgress()
	}
	inv.Flush(ws[0].Now()) // every worker keeps the capture's clock
	if err := pub.close(ctx); err != nil {
		log.Warn("publishing did not finish", zap.Error(err))
	}
	if runErr != nil {
		return runErr
	}
	elapsed := time.Since(started)
	var packets, bytes, panics uint64
	for _, w := range ws {
		st := w.Stats()
		packets, bytes, panics = packets+st.Packets.Load(), bytes+st.Bytes.Load(), panics+st.Panics.Load()
	}
	assets := inv.Assets()
	log.Info("replay finished",
		zap.Uint64("packets", packets),
		zap.Uint64("bytes", bytes),
		zap.Duration("elapsed", elapsed),
		zap.Int("workers", len(ws)),
		zap.Int("assets", len(assets)),
		zap.Uint64("events", pub.count.Load()),
		zap.Uint64("decoder_panics", panics))

	if *inventoryPath != "" {
		if err := writeInventoryFile(*inventoryPath, assets); err != nil {
			return err
		}
	}
	return printInventory(stdout, *format, assets)
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments, which it returns; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// paced delays packets to follow their capture timestamps (--realtime).
type paced struct {
	capture.Source
	ctx         context.Context
	first       time.Time
	wallStarted time.Time
}

func (p *paced) Next() (capture.Packet, error) {
	pkt, err := p.Source.Next()
	if err != nil {
		return pkt, err
	}
	if p.first.IsZero() {
		p.first, p.wallStarted = pkt.Timestamp, time.Now()
		return pkt, nil
	}
	if wait := time.Until(p.wallStarted.Add(pkt.Timestamp.Sub(p.first))); wait > 0 {
		select {
		case <-time.After(wait):
		case <-p.ctx.Done():
		}
	}
	return pkt, nil
}
