package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/publish"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
	"github.com/iomt-sensor/iomt-sensor/sensor/metrics"
)

// publisher turns inventory events into messages for the configured sinks:
// NATS (embedded or remote) and the --events file.
type publisher struct {
	sensor   string
	log      *zap.Logger
	sink     publish.Sink
	embedded *publish.Embedded
	tempDir  string
	js       *publish.JetStreamSink
	count    atomic.Uint64
}

// defaultOutboxDir is where run keeps its outbox when the config names none.
func defaultOutboxDir(sensor string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "iomt-sensor", "outbox-"+sensor)
}

// stats reports the publisher's counters for metrics.
func (p *publisher) stats() metrics.PublishStats {
	if p.js == nil {
		return metrics.PublishStats{Published: p.count.Load()}
	}
	s := p.js.Stats()
	return metrics.PublishStats{
		Published: s.Published, Failed: s.Failed, Retried: s.Retried, Dropped: s.Dropped,
		DroppedOverBound: s.DroppedOverBound, Expired: s.DroppedExpired,
		Queued: s.Queued, OutboxMessages: s.OutboxMessages, OutboxBytes: s.OutboxBytes, OldestAge: s.OldestAge,
	}
}

// openPublisher starts the embedded server when no URL is configured, and
// connects the JetStream sink; with --nats off only the events file is
// written.
func openPublisher(ctx context.Context, cfg Config, eventsPath string, replay bool, latency func(time.Duration), log *zap.Logger) (*publisher, error) {
	p := &publisher{sensor: cfg.Sensor.Name, log: log}
	var sinks []publish.Sink
	if eventsPath != "" {
		f, err := publish.NewFileSink(eventsPath)
		if err != nil {
			return nil, fmt.Errorf("--events: %w", err)
		}
		sinks = append(sinks, f)
	}
	urls := cfg.NATS.URLs
	off := len(urls) == 1 && urls[0] == "off"
	if !off {
		if len(urls) == 0 {
			if err := p.startEmbedded(cfg, replay); err != nil {
				p.shutdown()
				return nil, err
			}
			urls = []string{p.embedded.ClientURL()}
		}
		outbox := cfg.NATS.Outbox.Dir
		if outbox == "" && !replay {
			outbox = defaultOutboxDir(cfg.Sensor.Name)
		}
		js, err := publish.NewJetStream(publish.JetStreamOptions{
			URLs:           urls,
			OutboxDir:      outbox,
			OutboxMaxBytes: cfg.NATS.Outbox.MaxBytes,
			OutboxMaxAge:   cfg.NATS.Outbox.MaxAge,
			ObserveLatency: latency,
			Stream:         cfg.NATS.Stream,
			Subjects:       cfg.NATS.Subjects,
			Replicas:       cfg.NATS.Replicas,
			Conn: publish.ConnOptions{
				Name:         "iomt-sensor " + cfg.Sensor.Name,
				CAFile:       cfg.NATS.TLS.CA,
				CertFile:     cfg.NATS.TLS.Cert,
				KeyFile:      cfg.NATS.TLS.Key,
				CredsFile:    cfg.NATS.Creds,
				NKeySeedFile: cfg.NATS.NKey,
				User:         cfg.NATS.User,
				Password:     cfg.NATS.Password,
			},
		}, log)
		if err != nil {
			p.shutdown()
			return nil, fmt.Errorf("nats: %w", err)
		}
		sinks = append(sinks, js)
		p.js = js
	}
	p.sink = publish.Tee(sinks...)
	return p, nil
}

func (p *publisher) startEmbedded(cfg Config, replay bool) error {
	listen, dir := cfg.NATS.Embedded.Listen, cfg.NATS.Embedded.DataDir
	if replay && listen == defaultConfig().NATS.Embedded.Listen {
		listen = "127.0.0.1:-1" // a replay must not collide with a running sensor
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "iomt-sensor-jetstream-")
		if err != nil {
			return fmt.Errorf("embedded NATS: data directory: %w", err)
		}
		p.tempDir, dir = d, d
	}
	e, err := publish.StartEmbedded(publish.EmbeddedOptions{
		Listen: listen, DataDir: filepath.Clean(dir), ServerName: cfg.Sensor.Name, Logger: p.log.Named("nats").WithOptions(zap.IncreaseLevel(zapcore.WarnLevel)),
	})
	if err != nil {
		return fmt.Errorf("embedded NATS on %s (set nats.embedded.listen or --nats URL): %w", listen, err)
	}
	p.embedded = e
	p.log.Info("embedded NATS server started", zap.String("url", e.ClientURL()), zap.String("data_dir", dir))
	return nil
}

// emit publishes one inventory event. The message id is derived from the
// event's content, so a retried publish is stored once.
func (p *publisher) emit(ev inventory.Event) {
	data, err := json.Marshal(ev.Asset)
	if err != nil {
		p.log.Error("encoding asset", zap.Error(err))
		return
	}
	var subject string
	switch ev.Kind {
	case "asset.new":
		subject, err = publish.AssetNewSubject(p.sensor)
	default:
		subject, err = publish.AssetUpdateSubject(p.sensor)
	}
	if err != nil {
		p.log.Error("subject", zap.Error(err))
		return
	}
	sum := sha256.Sum256(data)
	id := ev.Asset.ID + "/" + ev.Kind + "/" + hex.EncodeToString(sum[:8])
	if err := p.sink.Publish(publish.Message{Subject: subject, ID: id, Data: data, Compact: true}); err != nil {
		p.log.Warn("publish", zap.String("subject", subject), zap.Error(err))
		return
	}
	p.count.Add(1)
}

// anomaly publishes one anomaly event on the subject of its severity.
func (p *publisher) anomaly(a anomaly.Anomaly) {
	data, err := json.Marshal(a)
	if err != nil {
		p.log.Error("encoding anomaly", zap.Error(err))
		return
	}
	subject, err := publish.AnomalySubject(p.sensor, a.Severity)
	if err != nil {
		p.log.Error("subject", zap.Error(err))
		return
	}
	if err := p.sink.Publish(publish.Message{Subject: subject, ID: "anomaly/" + a.ID, Data: data, Compact: true}); err != nil {
		p.log.Warn("publish", zap.String("subject", subject), zap.Error(err))
		return
	}
	p.count.Add(1)
}

// close flushes the sinks, waiting at most 30 seconds.
func (p *publisher) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if p.sink == nil {
		return nil
	}
	err := p.sink.Close(ctx)
	p.sink = nil
	return err
}

// shutdown stops the embedded server and removes a temporary store.
func (p *publisher) shutdown() {
	if p.sink != nil {
		_ = p.close(context.Background())
	}
	if p.embedded != nil {
		p.embedded.Shutdown()
		p.embedded = nil
	}
	if p.tempDir != "" {
		os.RemoveAll(p.tempDir)
		p.tempDir = ""
	}
}

// newInventory builds the inventory and the anomaly detector and wires them
// to the publisher: every asset event is published, then an asset's
// advisories raise known_vulnerable; anomalies carry their asset's owner.
func newInventory(cfg Config, fp *fingerprint.Engine, pub *publisher) (*inventory.Inventory, *anomaly.Detector) {
	var det *anomaly.Detector
	inv := inventory.New(inventoryConfig(cfg, fp), func(ev inventory.Event) {
		pub.emit(ev)
		for _, adv := range ev.Asset.Advisories {
			det.Vulnerable(ev.Time, ev.Asset.ID, adv.ID, adv.Severity, adv.Source)
		}
	})
	det = anomaly.New(cfg.Sensor.Name, time.Minute, pub.anomaly)
	det.Owners(func(id string) *anomaly.Owner {
		a, ok := inv.Asset(id)
		if !ok || a.Owner == nil {
			return nil
		}
		return &anomaly.Owner{Responsible: a.Owner.Responsible, Accountable: a.Owner.Accountable,
			Consulted: a.Owner.Consulted, Informed: a.Owner.Informed}
	})
	return inv, det
}
