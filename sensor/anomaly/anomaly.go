// Package anomaly turns observations into anomaly events (SPEC.md,
// "Anomaly"): a rejected DICOM association, an HL7 negative acknowledgement,
// credentials sent in clear text. Repeats of the same anomaly (type, asset
// and details) are folded into one per interval of packet time, so a flood
// of NACKs is one event a minute, not thousands.
package anomaly

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Schema names the anomaly JSON.
const Schema = "iomt.anomaly/v1"

// Severities, lowest first.
const (
	Info     = "info"
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

// Anomaly is one event, as published.
type Anomaly struct {
	Schema   string            `json:"schema"`
	ID       string            `json:"id"`
	Sensor   string            `json:"sensor"`
	Time     string            `json:"time"` // RFC 3339, packet time
	Type     string            `json:"type"`
	Severity string            `json:"severity"`
	Asset    string            `json:"asset"`
	Summary  string            `json:"summary"`
	Details  map[string]string `json:"details"`
	Owner    *Owner            `json:"owner,omitempty"`
}

// Owner is the RACI of the asset an anomaly is about.
type Owner struct {
	Responsible string   `json:"responsible,omitempty"`
	Accountable string   `json:"accountable,omitempty"`
	Consulted   []string `json:"consulted,omitempty"`
	Informed    []string `json:"informed,omitempty"`
}

// Detector applies the rules. It is safe for concurrent use.
type Detector struct {
	sensor   string
	interval time.Duration
	emit     func(Anomaly)

	owner func(asset string) *Owner // may be nil

	mu         sync.Mutex
	last       map[string]time.Time // type+asset+details -> packet time of the last event
	counts     map[Kind]uint64
	vulnerable map[string]bool // asset+advisory already reported
}

// Kind is an anomaly's type and severity, for counting.
type Kind struct{ Type, Severity string }

// maxTracked bounds the rate-limit memory.
const maxTracked = 65536

// New returns a detector that passes anomalies to emit; repeats of a type
// on one asset within interval (default one minute) are dropped.
func New(sensor string, interval time.Duration, emit func(Anomaly)) *Detector {
	if interval <= 0 {
		interval = time.Minute
	}
	return &Detector{sensor: sensor, interval: interval, emit: emit, last: make(map[string]time.Time), counts: make(map[Kind]uint64),
		vulnerable: make(map[string]bool)}
}

// Owners sets the function that names an asset's owner, carried by every
// anomaly about it. Set it before the first Observe.
func (d *Detector) Owners(fn func(asset string) *Owner) { d.owner = fn }

// Counts returns how many anomalies were raised, by type and severity.
func (d *Detector) Counts() map[Kind]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[Kind]uint64, len(d.counts))
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

// Interesting reports whether o can raise an anomaly, a cheap test to skip
// the asset lookup for everything else.
func Interesting(o *protocols.Observation) bool {
	switch o.Source {
	case "dicom.a-associate-rj":
		return true
	case "hl7.ack":
		// Most acknowledgements accept: they can raise nothing.
		for _, f := range o.Facts {
			if f.Name == "hl7.ack_code" && nackSeverity(f.Value) != "" {
				return true
			}
		}
		return false
	}
	for _, f := range o.Facts {
		if isCleartextCredential(f) {
			return true
		}
	}
	return false
}

func isCleartextCredential(f protocols.Fact) bool {
	switch f.Name {
	case "http.basic_auth", "ftp.cleartext_login", "telnet.cleartext_login":
		return f.Value == "true"
	}
	return false
}

// Observe applies the rules to one observation about asset (the asset the
// observation describes, as the inventory names it).
func (d *Detector) Observe(ts time.Time, asset string, o protocols.Observation) {
	fact := func(name string) string {
		for _, f := range o.Facts {
			if f.Name == name {
				return f.Value
			}
		}
		return ""
	}
	switch o.Source {
	case "dicom.a-associate-rj":
		d.raise(ts, asset, "dicom_association_rejected", Medium,
			"DICOM association rejected", map[string]string{
				"result": fact("dicom.reject_result"),
				"source": fact("dicom.reject_source"),
				"reason": fact("dicom.reject_reason"),
			})
		return
	case "hl7.ack":
		code := fact("hl7.ack_code")
		if sev := nackSeverity(code); sev != "" {
			d.raise(ts, asset, "hl7_nack", sev, "HL7 message not accepted ("+code+")", map[string]string{
				"ack_code":     code,
				"message_type": fact("hl7.acked_message_type"),
			})
		}
		return
	}
	for _, f := range o.Facts {
		if isCleartextCredential(f) {
			proto := f.Name[:strings.IndexByte(f.Name, '.')]
			d.raise(ts, asset, "cleartext_credentials", High,
				"credentials sent in clear text over "+proto, map[string]string{"protocol": proto})
		}
	}
}

// nackSeverity is the severity of an HL7 acknowledgement code that refuses
// a message (error or reject, original or enhanced mode), "" for others.
func nackSeverity(code string) string {
	switch code {
	case "AE", "CE":
		return Low
	case "AR", "CR":
		return Medium
	}
	return ""
}

// Vulnerable raises known_vulnerable the first time an advisory matches an
// asset.
func (d *Detector) Vulnerable(ts time.Time, asset, advisory, severity, source string) {
	key := asset + " " + advisory
	d.mu.Lock()
	if d.vulnerable[key] {
		d.mu.Unlock()
		return
	}
	if len(d.vulnerable) >= maxTracked {
		clear(d.vulnerable)
	}
	d.vulnerable[key] = true
	d.mu.Unlock()
	switch severity {
	case Info, Low, Medium, High, Critical:
	default:
		severity = Medium
	}
	d.raise(ts, asset, "known_vulnerable", severity, "matches advisory "+advisory,
		map[string]string{"advisory": advisory, "source": source})
}

func (d *Detector) raise(ts time.Time, asset, typ, severity, summary string, details map[string]string) {
	for k, v := range details {
		if v == "" {
			delete(details, k)
		}
	}
	// Repeats fold by type, asset and details: three associations rejected
	// for different reasons are three events, a flood of the same NACK one.
	keys := make([]string, 0, len(details))
	for k, v := range details {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	key := typ + " " + asset + " " + strings.Join(keys, " ")
	d.mu.Lock()
	if last, ok := d.last[key]; ok && ts.Sub(last) < d.interval {
		d.mu.Unlock()
		return
	}
	if len(d.last) >= maxTracked {
		clear(d.last)
	}
	d.last[key] = ts
	d.counts[Kind{typ, severity}]++
	d.mu.Unlock()

	a := Anomaly{
		Schema: Schema, Sensor: d.sensor, Time: ts.UTC().Format(time.RFC3339Nano),
		Type: typ, Severity: severity, Asset: asset, Summary: summary, Details: details,
	}
	a.ID = id(a)
	if d.owner != nil {
		a.Owner = d.owner(asset)
	}
	if d.emit != nil {
		d.emit(a)
	}
}

// id derives a stable id from the anomaly's content, so a replay gives the
// same ids and a retried publish is stored once.
func id(a Anomaly) string {
	h := sha256.New()
	for _, s := range []string{a.Sensor, a.Time, a.Type, a.Asset} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Write([]byte(k + "=" + a.Details[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
