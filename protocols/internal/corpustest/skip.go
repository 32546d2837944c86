package corpustest

import (
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Skipping is what DecodeStreamsSkipping adds to a Decoded: the bytes the
// decoder asked to skip per direction, and how many of them were passed over
// (the rest lay beyond the end of the capture's stream).
type Skipping struct {
	Decoded
	Asked, Passed [2]int
}

// DecodeStreamsSkipping is DecodeStreams for a decoder implementing
// protocols.Skipper, honouring its skips as the sensor does: after each Feed
// it asks Skip for the direction and drops that many of the direction's next
// bytes, data or gap alike, without feeding or reporting them.
func DecodeStreamsSkipping(tb testing.TB, spec protocols.Spec, path string, ports ...uint16) []Skipping {
	tb.Helper()
	return decodeStreams(tb, spec, path, true, ports)
}
