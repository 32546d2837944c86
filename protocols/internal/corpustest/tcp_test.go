package corpustest

import "testing"

func TestTCPStreams(t *testing.T) {
	streams := TCPStreams(t, "../../../testdata/captures/http-curl.pcap", 80)
	if len(streams) != 2 {
		t.Fatalf("expected 2 connections, got %d", len(streams))
	}
	for i, s := range streams {
		req, resp := string(s.Bytes(0)), string(s.Bytes(1))
		if len(req) < 16 || req[:4] != "GET " || len(resp) < 16 || resp[:5] != "HTTP/" {
			t.Errorf("Test %d: expected a GET and an HTTP response, got %q / %q", i, req, resp)
		}
		if s.Server.Port() != 80 {
			t.Errorf("Test %d: expected server port 80, got %v", i, s.Server)
		}
	}
}
