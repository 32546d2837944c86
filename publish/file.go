package publish

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// FileSink writes each message as one JSON line:
//
//	{"subject":"...","msg_id":"...","payload":<Data>}
//
// Data is written verbatim, except that a payload spanning several lines
// is compacted to keep one event per line. It is safe for concurrent use.
type FileSink struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	buf    []byte
	closed bool
}

// NewFileSink creates (or truncates) path.
func NewFileSink(path string) (*FileSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("publish: events file: %w", err)
	}
	return &FileSink{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Publish appends m as one line. It rejects a payload that is not valid
// JSON with ErrInvalidPayload, unless m.Compact vouches for it.
func (s *FileSink) Publish(m Message) error {
	if !m.Compact && !json.Valid(m.Data) {
		return fmt.Errorf("publish: message %q on %q: %w", m.ID, m.Subject, ErrInvalidPayload)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	b := s.buf[:0]
	b = append(b, `{"subject":`...)
	b = appendJSONString(b, m.Subject)
	b = append(b, `,"msg_id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"payload":`...)
	switch {
	case m.Compact:
		b = append(b, m.Data...)
	case bytes.ContainsAny(m.Data, "\r\n"):
		var c bytes.Buffer
		if err := json.Compact(&c, m.Data); err != nil {
			return fmt.Errorf("publish: message %q: %w", m.ID, ErrInvalidPayload)
		}
		b = append(b, c.Bytes()...)
	default:
		b = append(b, bytes.TrimSpace(m.Data)...)
	}
	b = append(b, "}\n"...)
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("publish: writing events file %s: %w", s.f.Name(), err)
	}
	return nil
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// Close flushes buffered lines and closes the file.
func (s *FileSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return errors.Join(s.w.Flush(), s.f.Close())
}

// tee publishes to several sinks.
type tee []Sink

// Tee returns a Sink that publishes every message to all sinks, in
// order, and closes them all. Errors are joined.
func Tee(sinks ...Sink) Sink { return tee(sinks) }

func (t tee) Publish(m Message) error {
	var errs []error
	for _, s := range t {
		if err := s.Publish(m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (t tee) Close(ctx context.Context) error {
	var errs []error
	for _, s := range t {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
