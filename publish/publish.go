// Package publish sends the sensor's already-encoded events to NATS
// (JetStream) or to files. It is the only package of the sensor that
// imports nats.go and nats-server.
//
// Subjects follow SPEC.md: iomt.v1.<sensor>.asset.new,
// iomt.v1.<sensor>.asset.update, iomt.v1.<sensor>.anomaly.<severity> and
// iomt.v1.<sensor>.health.
package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message is one event as published: subject, dedup id and JSON payload.
// Data is owned by the sink once Publish is called: do not modify it.
type Message struct {
	Subject string
	ID      string // becomes the Nats-Msg-Id header; stable across retries
	Data    []byte // the encoded JSON event
	// Compact promises that Data is valid JSON on one line, as
	// json.Marshal writes it: the file sink then writes it as is instead
	// of checking it, which costs more than the encoding.
	Compact bool
}

// Sink receives messages to publish.
type Sink interface {
	// Publish hands one message to the sink. Implementations must not
	// block on the network.
	Publish(Message) error
	// Close flushes what is pending until ctx is done, then releases
	// resources.
	Close(ctx context.Context) error
}

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrInvalidSensor reports a sensor name that is not a valid NATS
	// subject token.
	ErrInvalidSensor = errors.New("invalid sensor name")
	// ErrInvalidSeverity reports an anomaly severity outside
	// info|low|medium|high|critical.
	ErrInvalidSeverity = errors.New("invalid severity")
	// ErrInvalidPayload reports a message whose Data is not valid JSON.
	ErrInvalidPayload = errors.New("payload is not valid JSON")
	// ErrClosed reports a Publish after Close.
	ErrClosed = errors.New("sink closed")
)

// SubjectPrefix is the first two tokens of every subject.
const SubjectPrefix = "iomt.v1"

// maxSensorLen bounds sensor names so subjects stay short.
const maxSensorLen = 64

// ValidateSensor checks that name can be used as one NATS subject token.
// The error names the offending character and says what to change.
func ValidateSensor(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty; set a short name such as \"icu-span-1\"", ErrInvalidSensor)
	}
	if len(name) > maxSensorLen {
		return fmt.Errorf("%w: %d bytes long; shorten it to at most %d", ErrInvalidSensor, len(name), maxSensorLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8; use letters, digits, '-' or '_'", ErrInvalidSensor)
	}
	for i, r := range name {
		var what string
		switch {
		case r == '.':
			what = "a dot (subject token separator)"
		case r == '*' || r == '>':
			what = fmt.Sprintf("the wildcard %q", r)
		case unicode.IsSpace(r):
			what = "whitespace"
		case unicode.IsControl(r) || !unicode.IsPrint(r):
			what = "a control character"
		default:
			continue
		}
		return fmt.Errorf("%w: %q contains %s at byte %d; use letters, digits, '-' or '_' instead", ErrInvalidSensor, name, what, i)
	}
	return nil
}

// validSeverity reports whether s is one of the severities of SPEC.md.
func validSeverity(s string) bool {
	switch s {
	case "info", "low", "medium", "high", "critical":
		return true
	}
	return false
}

func subject(sensor string, tail ...string) (string, error) {
	if err := ValidateSensor(sensor); err != nil {
		return "", err
	}
	return SubjectPrefix + "." + sensor + "." + strings.Join(tail, "."), nil
}

// AssetNewSubject returns "iomt.v1.<sensor>.asset.new".
func AssetNewSubject(sensor string) (string, error) { return subject(sensor, "asset", "new") }

// AssetUpdateSubject returns "iomt.v1.<sensor>.asset.update".
func AssetUpdateSubject(sensor string) (string, error) { return subject(sensor, "asset", "update") }

// HealthSubject returns "iomt.v1.<sensor>.health".
func HealthSubject(sensor string) (string, error) { return subject(sensor, "health") }

// AnomalySubject returns "iomt.v1.<sensor>.anomaly.<severity>"; severity
// must be info, low, medium, high or critical.
func AnomalySubject(sensor, severity string) (string, error) {
	if !validSeverity(severity) {
		return "", fmt.Errorf("%w: %q; use info, low, medium, high or critical", ErrInvalidSeverity, severity)
	}
	return subject(sensor, "anomaly", severity)
}

// isAssetUpdate reports whether subj is an asset.update subject, the
// first kind of message dropped when a queue is full.
func isAssetUpdate(subj string) bool { return strings.HasSuffix(subj, ".asset.update") }
