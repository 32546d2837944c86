package http

import (
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

var replayN = flag.Int("replayflows", 4096, "distinct flows BenchmarkReplayFlows cycles through")

type replayChunk struct {
	dir  protocols.Direction
	data []byte
}

// replayFlows builds n HTTP/1.1 flows shaped like the generator's
// (cmd/iomt-gencap): 1 to 3 keep-alive GETs with Host and User-Agent, each
// answered with Server, Date, Content-Type, Content-Length and a body,
// split into 1448-byte segments.
func replayFlows(n int) [][]replayChunk {
	servers := []string{"nginx/1.24.0", "Microsoft-IIS/10.0", "Apache/2.4.57 (Debian)", "AkamaiGHost", "ECAcc (nyd/D15C)"}
	agents := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", "IntelliVue/M.00.03", "Spectrum-IQ/10.1", "Microsoft-CryptoAPI/10.0"}
	body := strings.Repeat("<p>Patient safety notice: infusion pump drug library updated.</p>\n", 400)
	flows := make([][]replayChunk, n)
	for i := range flows {
		host := "host" + strconv.Itoa(i) + ".example.org"
		for r := range 1 + i%3 {
			req := "GET /api/v1/status HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + agents[i%len(agents)] +
				"\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"
			size := 100 + (i*7919+r*104729)%20000
			resp := "HTTP/1.1 200 OK\r\nServer: " + servers[i%len(servers)] + "\r\nDate: Mon, 23 Nov 2026 10:00:00 GMT" +
				"\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + strconv.Itoa(size) + "\r\nConnection: keep-alive\r\n\r\n" +
				body[:min(size, len(body))] + strings.Repeat("x", max(0, size-len(body)))
			flows[i] = append(flows[i], replayChunk{c, []byte(req)})
			for b := []byte(resp); len(b) > 0; {
				k := min(len(b), 1448)
				flows[i] = append(flows[i], replayChunk{s, b[:k]})
				b = b[k:]
			}
		}
	}
	return flows
}

// BenchmarkReplayFlows models the replay: every flow is new (New, the whole
// conversation, Close), flows follow one another out of cache, and the
// observations are kept as the sensor keeps them. One op is one flow.
func BenchmarkReplayFlows(b *testing.B) {
	flows := replayFlows(*replayN)
	kept := make([]protocols.Observation, 0, 1024)
	emit := func(o protocols.Observation) {
		if len(kept) == cap(kept) {
			clear(kept)
			kept = kept[:0]
		}
		kept = append(kept, o)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := flows[i%len(flows)]
		i++
		d := New(protocols.FlowInfo{Transport: protocols.TCP})
		for _, ch := range f {
			if err := d.Feed(ch.dir, ch.data, time.Time{}, emit); err != nil {
				b.Fatal(err)
			}
		}
		d.Close(time.Time{}, emit)
	}
	if len(kept) == 0 {
		b.Fatal("nothing emitted")
	}
}
