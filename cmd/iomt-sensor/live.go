package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/metrics"
)

func liveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	iface := fs.String("iface", "", "capture `interface` (a SPAN or mirror port)")
	filter := fs.String("filter", "", "capture filter `expression` (tcpdump subset: ip, ip6, arp, tcp, udp, vlan, port, host, net, and/or/not)")
	workers := fs.Int("workers", 0, "packet workers sharing the interface through AF_PACKET fanout (default: config, else 1)")
	httpAddr := fs.String("http", "", "`address` of /metrics, /healthz and /readyz (default: config http.listen)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: iomt-sensor run --iface IF [flags]\n\nCaptures live with AF_PACKET (Linux, needs CAP_NET_RAW) until SIGINT or SIGTERM.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	if *iface != "" {
		cfg.Capture.Interface = *iface
	}
	if *filter != "" {
		cfg.Capture.Filter = *filter
	}
	if *workers > 0 {
		cfg.Capture.Workers = *workers
	}
	if *httpAddr != "" {
		cfg.HTTP.Listen = *httpAddr
	}
	if cfg.Capture.Interface == "" {
		fmt.Fprintln(stderr, "iomt-sensor run: name the capture interface with --iface (or capture.interface in the config)")
		fs.Usage()
		return errUsage
	}
	prog, err := capture.CompileFilter(cfg.Capture.Filter)
	if err != nil {
		return fmt.Errorf("capture filter: %w", err)
	}
	log := newLogger(cfg.Log, stderr)
	defer log.Sync()

	fp, err := fingerprintEngine(cfg)
	if err != nil {
		return err
	}
	m := metrics.New(buildVersion(), protocolSpecs())
	pub, err := openPublisher(ctx, cfg, common.events, false, m.ObservePublishLatency, log)
	if err != nil {
		return err
	}
	m.SetPublishing(pub.stats)
	defer pub.shutdown()
	inv, det := newInventory(cfg, fp, pub)

	// One socket and one worker per fanout member: the kernel hashes both
	// directions of a flow to the same socket, so workers share no flow.
	var sources []capture.Source
	var ws []*sensor.Worker
	group := uint16(os.Getpid()) | 1 // any non-zero id unique to this process
	for i := 0; i < cfg.Capture.Workers; i++ {
		opts := capture.LiveOptions{SnapLen: cfg.Capture.Snaplen, BlockSize: 1 << 20, NumBlocks: cfg.Capture.RingMB, Filter: prog}
		if cfg.Capture.Workers > 1 {
			opts.FanoutGroup = group
		}
		src, err := capture.OpenLive(cfg.Capture.Interface, opts)
		if err != nil {
			for _, s := range sources {
				s.Close()
			}
			return fmt.Errorf("capture on %s: %w", cfg.Capture.Interface, err)
		}
		sources = append(sources, src)
		ws = append(ws, sensor.NewWorker(workerConfig(cfg, det), protocolSpecs(), inv))
	}

	for i, w := range ws {
		m.AddWorker(cfg.Capture.Interface, w.Stats(), sources[i].Stats)
	}
	m.SetInventory(inv.Stats)
	m.SetAnomalies(det.Counts)
	srv := &http.Server{Addr: cfg.HTTP.Listen, Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health endpoint", zap.String("listen", cfg.HTTP.Listen), zap.Error(err))
		}
	}()
	m.SetReady(true)
	log.Info("capturing", zap.String("iface", cfg.Capture.Interface), zap.Int("workers", len(ws)),
		zap.String("filter", cfg.Capture.Filter), zap.String("http", cfg.HTTP.Listen))

	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = sensor.Run(ctx, sources[i], ws[i])
		}()
	}
	<-ctx.Done()
	log.Info("stopping")
	m.SetReady(false)
	for _, s := range sources {
		s.Close() // unblocks Next
	}
	wg.Wait()
	var last time.Time
	for _, w := range ws {
		if w.Now().After(last) {
			last = w.Now()
		}
	}
	inv.Flush(last)
	if err := pub.close(context.Background()); err != nil {
		log.Warn("publishing did not finish", zap.Error(err))
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return errors.Join(errs...)
}
