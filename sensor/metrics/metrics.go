// Package metrics exposes the sensor's health to Prometheus: a non-global
// registry and a collector that reads the workers' counters at scrape time,
// so the packet path only increments its own atomics. No label carries an
// address, a name or anything else unbounded.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/decode"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

const ns = "iomt_sensor"

// Metrics holds the registry and what it reads.
type Metrics struct {
	reg       *prometheus.Registry
	protocols []string // distinct protocol names, then "other"
	byName    []int    // spec index -> index in protocols
	ready     atomic.Bool

	mu         sync.Mutex
	workers    []worker
	inventory  func() inventory.Stats
	publishing func() PublishStats
	anomalies  func() map[anomaly.Kind]uint64
	latency    prometheus.Histogram
}

// PublishStats are the publisher's counters and gauges.
type PublishStats struct {
	Published, Failed, Retried uint64
	Dropped                    uint64 // evicted from the memory queue
	DroppedOverBound, Expired  uint64 // dropped from the outbox
	Queued, OutboxMessages     uint64
	OutboxBytes                uint64
	OldestAge                  time.Duration
}

type worker struct {
	iface   string
	stats   *sensor.Stats
	capture func() capture.Stats
}

// New returns Metrics with a fresh registry holding the Go and process
// collectors, build info and the sensor collector.
func New(version string, specs []protocols.Spec) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	// Counters are per spec (plus "other"); labels per protocol name, which
	// two specs may share (syslog over UDP and TCP).
	for _, s := range specs {
		i := slices.Index(m.protocols, s.Name)
		if i < 0 {
			i = len(m.protocols)
			m.protocols = append(m.protocols, s.Name)
		}
		m.byName = append(m.byName, i)
	}
	m.byName = append(m.byName, len(m.protocols))
	m.protocols = append(m.protocols, "other")
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		(*collector)(m),
	)
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "publish_latency_seconds",
		Help:    "Time from publishing an event to its JetStream acknowledgement.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	})
	m.reg.MustRegister(m.latency)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info", Help: "Build information; always 1.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	m.reg.MustRegister(info)
	return m
}

// Registry returns the registry, for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// AddWorker adds a worker's counters; capStats, if not nil, gives the
// capture source's counters (kernel drops).
func (m *Metrics) AddWorker(iface string, st *sensor.Stats, capStats func() capture.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.workers = append(m.workers, worker{iface, st, capStats})
}

// SetInventory sets the function that reports inventory counts.
func (m *Metrics) SetInventory(fn func() inventory.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inventory = fn
}

// SetPublishing sets the function that reports the publisher's counters.
func (m *Metrics) SetPublishing(fn func() PublishStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishing = fn
}

// SetAnomalies sets the function that counts anomalies by type and severity.
func (m *Metrics) SetAnomalies(fn func() map[anomaly.Kind]uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.anomalies = fn
}

// ObservePublishLatency records one publish-to-acknowledgement latency.
func (m *Metrics) ObservePublishLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }

// SetReady says whether the sensor is capturing and publishing (/readyz).
func (m *Metrics) SetReady(ok bool) { m.ready.Store(ok) }

// Handler serves /metrics, /healthz (the process is up) and /readyz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

var (
	descPackets           = prometheus.NewDesc(ns+"_packets_total", "Frames received.", []string{"interface"}, nil)
	descBytes             = prometheus.NewDesc(ns+"_bytes_total", "Bytes of frames received, as on the wire.", []string{"interface"}, nil)
	descKernelDrops       = prometheus.NewDesc(ns+"_kernel_drops_total", "Frames the kernel dropped before the sensor read them.", []string{"interface"}, nil)
	descKernelFreezes     = prometheus.NewDesc(ns+"_ring_freezes_total", "Times the capture ring was full and froze its queue.", []string{"interface"}, nil)
	descDecodeErrors      = prometheus.NewDesc(ns+"_decode_errors_total", "Frames not fully decoded, by layer and reason.", []string{"layer", "reason"}, nil)
	descFlowsActive       = prometheus.NewDesc(ns+"_flows_active", "Flows in the flow tables.", nil, nil)
	descFlowsCreated      = prometheus.NewDesc(ns+"_flows_created_total", "Flows created.", nil, nil)
	descFlowsRemoved      = prometheus.NewDesc(ns+"_flows_removed_total", "Flows removed, by reason: closed (FIN/RST), idle (timeout) or evicted (table full).", []string{"reason"}, nil)
	descReasmBytes        = prometheus.NewDesc(ns+"_reassembly_buffer_bytes", "Bytes of out-of-order TCP data buffers held.", nil, nil)
	descReasmGaps         = prometheus.NewDesc(ns+"_reassembly_gaps_total", "Holes in TCP streams reported to decoders.", nil, nil)
	descReasmGapBytes     = prometheus.NewDesc(ns+"_reassembly_gap_bytes_total", "Bytes lost in TCP stream holes.", nil, nil)
	descReasmInconsistent = prometheus.NewDesc(ns+"_reassembly_inconsistent_total", "Retransmitted TCP segments whose bytes differed from the first copy.", nil, nil)
	descReasmSkipped      = prometheus.NewDesc(ns+"_reassembly_skipped_bytes_total", "TCP stream bytes passed over because their decoder did not need them (bulk data).", nil, nil)
	descDetected          = prometheus.NewDesc(ns+"_flows_detected_total", "Flows whose protocol was detected, by protocol.", []string{"protocol"}, nil)
	descObservations      = prometheus.NewDesc(ns+"_observations_total", "Observations decoded, by protocol.", []string{"protocol"}, nil)
	descProtoErrors       = prometheus.NewDesc(ns+"_protocol_errors_total", "Flows a decoder gave up on, by protocol and reason.", []string{"protocol", "reason"}, nil)
	descPanics            = prometheus.NewDesc(ns+"_decoder_panics_recovered_total", "Panics in protocol decoders, recovered per packet.", nil, nil)
	descPublished         = prometheus.NewDesc(ns+"_events_published_total", "Events acknowledged by NATS JetStream.", nil, nil)
	descPubFailed         = prometheus.NewDesc(ns+"_events_failed_total", "Events given up on (rejected by the server).", nil, nil)
	descPubRetried        = prometheus.NewDesc(ns+"_events_retried_total", "Publishes repeated after an error or a missing acknowledgement.", nil, nil)
	descPubDropped        = prometheus.NewDesc(ns+"_events_dropped_total", "Events dropped before publishing, by reason: queue_full (memory), outbox_full, expired.", []string{"reason"}, nil)
	descOutboxDepth       = prometheus.NewDesc(ns+"_outbox_events", "Events waiting to be acknowledged, in memory and in the on-disk outbox.", nil, nil)
	descOutboxBytes       = prometheus.NewDesc(ns+"_outbox_bytes", "Bytes of the on-disk outbox not yet acknowledged.", nil, nil)
	descOutboxAge         = prometheus.NewDesc(ns+"_outbox_oldest_age_seconds", "Age of the oldest event not yet acknowledged.", nil, nil)
	descAnomalies         = prometheus.NewDesc(ns+"_anomalies_total", "Anomaly events raised, by type and severity.", []string{"type", "severity"}, nil)
	descAssets            = prometheus.NewDesc(ns+"_assets", "Assets in the inventory, by category and medical flag.", []string{"category", "medical"}, nil)
)

type collector Metrics

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descBytes, descKernelDrops, descKernelFreezes, descDecodeErrors,
		descFlowsActive, descFlowsCreated, descFlowsRemoved, descReasmBytes, descReasmGaps, descReasmGapBytes,
		descReasmInconsistent, descReasmSkipped, descDetected, descObservations, descProtoErrors, descPanics, descAssets,
		descAnomalies, descPublished, descPubFailed, descPubRetried, descPubDropped, descOutboxDepth, descOutboxBytes, descOutboxAge} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	workers := append([]worker(nil), c.workers...)
	invStats := c.inventory
	pubStats := c.publishing
	anomalies := c.anomalies
	c.mu.Unlock()
	if anomalies != nil {
		for k, v := range anomalies() {
			ch <- prometheus.MustNewConstMetric(descAnomalies, prometheus.CounterValue, float64(v), k.Type, k.Severity)
		}
	}
	if pubStats != nil {
		p := pubStats()
		ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(p.Published))
		ch <- prometheus.MustNewConstMetric(descPubFailed, prometheus.CounterValue, float64(p.Failed))
		ch <- prometheus.MustNewConstMetric(descPubRetried, prometheus.CounterValue, float64(p.Retried))
		ch <- prometheus.MustNewConstMetric(descPubDropped, prometheus.CounterValue, float64(p.Dropped), "queue_full")
		ch <- prometheus.MustNewConstMetric(descPubDropped, prometheus.CounterValue, float64(p.DroppedOverBound), "outbox_full")
		ch <- prometheus.MustNewConstMetric(descPubDropped, prometheus.CounterValue, float64(p.Expired), "expired")
		ch <- prometheus.MustNewConstMetric(descOutboxDepth, prometheus.GaugeValue, float64(p.Queued+p.OutboxMessages))
		ch <- prometheus.MustNewConstMetric(descOutboxBytes, prometheus.GaugeValue, float64(p.OutboxBytes))
		ch <- prometheus.MustNewConstMetric(descOutboxAge, prometheus.GaugeValue, p.OldestAge.Seconds())
	}

	type ifaceCounts struct{ packets, bytes, drops, freezes uint64 }
	byIface := map[string]*ifaceCounts{}
	var ifaces []string
	var decodeErrs [decode.NumLayers][decode.NumReasons]uint64
	n := len(c.protocols)
	detected, observations := make([]uint64, n), make([]uint64, n)
	protoErrs := make([][4]uint64, n)
	var panics, active, created, closed, idle, evicted, gaps, gapBytes, inconsistent, skipped uint64
	var reasmBytes int
	for _, w := range workers {
		ic := byIface[w.iface]
		if ic == nil {
			ic = &ifaceCounts{}
			byIface[w.iface] = ic
			ifaces = append(ifaces, w.iface)
		}
		ic.packets += w.stats.Packets.Load()
		ic.bytes += w.stats.Bytes.Load()
		if w.capture != nil {
			cs := w.capture()
			ic.drops += cs.KernelDrops
			ic.freezes += cs.KernelFreezes
		}
		for l := range decodeErrs {
			for r := range decodeErrs[l] {
				decodeErrs[l][r] += w.stats.DecodeErrors[l][r].Load()
			}
		}
		for i := 0; i < len(c.byName) && i < len(w.stats.Detected); i++ {
			j := c.byName[i]
			detected[j] += w.stats.Detected[i].Load()
			observations[j] += w.stats.Observations[i].Load()
			for r := range protoErrs[j] {
				protoErrs[j][r] += w.stats.ProtocolErrors[i][r].Load()
			}
		}
		panics += w.stats.Panics.Load()
		fs, rs, held := w.stats.Flows()
		active += uint64(fs.Active)
		created += fs.Created
		closed += fs.Closed
		idle += fs.Expired
		evicted += fs.Evicted
		gaps += rs.Gaps
		gapBytes += rs.GapBytes
		inconsistent += rs.Inconsistent
		skipped += rs.Skipped
		reasmBytes += held
	}
	for _, iface := range ifaces {
		ic := byIface[iface]
		ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(ic.packets), iface)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(ic.bytes), iface)
		ch <- prometheus.MustNewConstMetric(descKernelDrops, prometheus.CounterValue, float64(ic.drops), iface)
		ch <- prometheus.MustNewConstMetric(descKernelFreezes, prometheus.CounterValue, float64(ic.freezes), iface)
	}
	for l := range decodeErrs {
		for r := range decodeErrs[l] {
			if v := decodeErrs[l][r]; v > 0 {
				ch <- prometheus.MustNewConstMetric(descDecodeErrors, prometheus.CounterValue, float64(v),
					decode.Layer(l).String(), decode.Reason(r).String())
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(descFlowsActive, prometheus.GaugeValue, float64(active))
	ch <- prometheus.MustNewConstMetric(descFlowsCreated, prometheus.CounterValue, float64(created))
	ch <- prometheus.MustNewConstMetric(descFlowsRemoved, prometheus.CounterValue, float64(closed), "closed")
	ch <- prometheus.MustNewConstMetric(descFlowsRemoved, prometheus.CounterValue, float64(idle), "idle")
	ch <- prometheus.MustNewConstMetric(descFlowsRemoved, prometheus.CounterValue, float64(evicted), "evicted")
	ch <- prometheus.MustNewConstMetric(descReasmBytes, prometheus.GaugeValue, float64(reasmBytes))
	ch <- prometheus.MustNewConstMetric(descReasmGaps, prometheus.CounterValue, float64(gaps))
	ch <- prometheus.MustNewConstMetric(descReasmGapBytes, prometheus.CounterValue, float64(gapBytes))
	ch <- prometheus.MustNewConstMetric(descReasmInconsistent, prometheus.CounterValue, float64(inconsistent))
	ch <- prometheus.MustNewConstMetric(descReasmSkipped, prometheus.CounterValue, float64(skipped))
	for i, name := range c.protocols {
		ch <- prometheus.MustNewConstMetric(descDetected, prometheus.CounterValue, float64(detected[i]), name)
		ch <- prometheus.MustNewConstMetric(descObservations, prometheus.CounterValue, float64(observations[i]), name)
		for r, reason := range sensor.ProtocolErrorReasons {
			if v := protoErrs[i][r]; v > 0 {
				ch <- prometheus.MustNewConstMetric(descProtoErrors, prometheus.CounterValue, float64(v), name, reason)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(descPanics, prometheus.CounterValue, float64(panics))
	if invStats != nil {
		st := invStats()
		for cat, v := range st.ByCategory {
			ch <- prometheus.MustNewConstMetric(descAssets, prometheus.GaugeValue, float64(v), cat, strconv.FormatBool(fingerprint.IsMedical(cat)))
		}
	}
}
