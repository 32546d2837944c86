package gencap

import (
	"encoding/binary"
	"strconv"
	"time"
)

// --- TLS 1.3 on 443 ---

var (
	tlsCiphers = [...]uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
		0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	tlsSigAlgs = [...]uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
)

var localWebNames = []string{"intranet.hosp.local", "ehr.hosp.local", "pacs-viewer.hosp.local", "lab.hosp.local"}

func (g *gen) appendRand(b []byte, n int) []byte {
	for n >= 8 {
		b = binary.LittleEndian.AppendUint64(b, g.rng.Uint64())
		n -= 8
	}
	for ; n > 0; n-- {
		b = append(b, byte(g.rng.Uint32()))
	}
	return b
}

// webPeer picks the server of a web flow: usually a public site through the
// gateway, sometimes a local web server.
func (g *gen) webPeer(c int, port uint16, f *flow) string {
	if g.rng.IntN(5) != 0 {
		srv, ri := g.public(c)
		g.initTCP(f, g.local(c), srv, port)
		return g.seg.remotes[ri].name
	}
	g.initTCP(f, g.local(c), g.local(g.pickServer(roleWeb)), port)
	return localWebNames[g.rng.IntN(len(localWebNames))]
}

func (g *gen) setupTLS(f *flow, bulk bool) {
	sni := g.webPeer(g.pickClient(), 443, f)

	// ClientHello.
	f.begin(0)
	a := f.arena
	start := len(a)
	a = append(a, 0x16, 0x03, 0x01, 0, 0, 0x01, 0, 0, 0, 0x03, 0x03)
	a = g.appendRand(a, 32)
	a = append(a, 32)
	sid := len(a)
	a = g.appendRand(a, 32)
	a = be16(a, 2*len(tlsCiphers))
	for _, c := range tlsCiphers {
		a = be16(a, int(c))
	}
	a = append(a, 1, 0)
	ext := len(a)
	a = append(a, 0, 0)
	a = be16(a, 0) // server_name
	a = be16(a, len(sni)+5)
	a = be16(a, len(sni)+3)
	a = append(a, 0)
	a = be16(a, len(sni))
	a = append(a, sni...)
	a = append(a, 0, 23, 0, 0)                                  // extended_master_secret
	a = append(a, 0xff, 0x01, 0, 1, 0)                          // renegotiation_info
	a = append(a, 0, 10, 0, 8, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18) // supported_groups
	a = append(a, 0, 11, 0, 2, 1, 0)                            // ec_point_formats
	a = append(a, 0, 35, 0, 0)                                  // session_ticket
	a = append(a, 0, 16, 0, 14, 0, 12, 2, 'h', '2', 8)
	a = append(a, "http/1.1"...)             // ALPN
	a = append(a, 0, 5, 0, 5, 1, 0, 0, 0, 0) // status_request
	a = append(a, 0, 13)
	a = be16(a, 2+2*len(tlsSigAlgs))
	a = be16(a, 2*len(tlsSigAlgs))
	for _, s := range tlsSigAlgs {
		a = be16(a, int(s))
	}
	a = append(a, 0, 18, 0, 0)                         // signed_certificate_timestamp
	a = append(a, 0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32) // key_share x25519
	a = g.appendRand(a, 32)
	a = append(a, 0, 45, 0, 2, 1, 1)          // psk_key_exchange_modes
	a = append(a, 0, 43, 0, 5, 4, 3, 4, 3, 3) // supported_versions
	putLen16(a[ext:], len(a)-ext-2)
	putLen24(a[start+6:], len(a)-start-9)
	putLen16(a[start+3:], len(a)-start-5)

	// ServerHello, ChangeCipherSpec, encrypted handshake.
	f.arena = a
	f.lit(start)
	f.begin(1)
	start = len(a)
	a = append(a, 0x16, 0x03, 0x03, 0, 0, 0x02, 0, 0, 0, 0x03, 0x03)
	a = g.appendRand(a, 32)
	a = append(a, 32)
	a = append(a, a[sid:sid+32]...)
	a = append(a, 0x13, 0x01, 0, 0, 46)
	a = append(a, 0, 43, 0, 2, 3, 4)
	a = append(a, 0, 51, 0, 36, 0, 0x1d, 0, 32)
	a = g.appendRand(a, 32)
	putLen24(a[start+6:], len(a)-start-9)
	putLen16(a[start+3:], len(a)-start-5)
	a = append(a, 0x14, 0x03, 0x03, 0, 1, 1)
	f.arena = a
	f.lit(start)
	g.tlsRecords(f, 2000+g.rng.IntN(3000))

	// Client ChangeCipherSpec and Finished.
	f.begin(0)
	start = len(f.arena)
	f.arena = append(f.arena, 0x14, 0x03, 0x03, 0, 1, 1)
	f.lit(start)
	g.tlsRecords(f, 53)

	rounds := 1 + g.rng.IntN(3)
	for r := 0; r < rounds; r++ {
		f.begin(0)
		g.tlsRecords(f, 150+g.rng.IntN(900))
		f.begin(1)
		n := 200 + g.rng.IntN(12000)
		if bulk && r == 0 {
			n = 100_000 + g.rng.IntN(1_500_000)
		}
		g.tlsRecords(f, n)
	}
	f.begin(f.closer)
	g.tlsRecords(f, 19) // close_notify
}

// tlsRecords appends n bytes of application data as TLS 1.3 records.
func (g *gen) tlsRecords(f *flow, n int) {
	for n > 0 {
		r := n
		if r > 16401 {
			r = 16401
		}
		start := len(f.arena)
		f.arena = append(f.arena, 0x17, 0x03, 0x03, byte(r>>8), byte(r))
		f.lit(start)
		f.fill(r, chunkRand)
		n -= r
	}
}

// --- HTTP/1.1 on 80 ---

var (
	httpPaths = []string{"/", "/index.html", "/api/v1/status", "/firmware/manifest.xml", "/images/logo.png",
		"/ws/devices/heartbeat", "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab", "/connecttest.txt"}
	httpServers = []string{"nginx/1.24.0", "Microsoft-IIS/10.0", "Apache/2.4.57 (Debian)", "AkamaiGHost", "ECAcc (nyd/D15C)"}
)

func (g *gen) setupHTTP(f *flow) {
	c := g.pickClient()
	name := g.webPeer(c, 80, f)
	h := &g.seg.hosts[c]
	server := httpServers[g.rng.IntN(len(httpServers))]
	rounds := 1 + g.rng.IntN(3)
	for r := 0; r < rounds; r++ {
		f.begin(0)
		a := f.arena
		start := len(a)
		a = append(a, "GET "...)
		a = append(a, httpPaths[g.rng.IntN(len(httpPaths))]...)
		a = append(a, " HTTP/1.1\r\nHost: "...)
		a = append(a, name...)
		a = append(a, "\r\nUser-Agent: "...)
		a = append(a, h.v.userAgent...)
		a = append(a, "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"...)
		f.arena = a
		f.lit(start)

		f.begin(1)
		body := 100 + g.rng.IntN(20000)
		status := "200 OK"
		if g.rng.IntN(10) == 0 {
			status, body = "404 Not Found", 150
		}
		a = f.arena
		start = len(a)
		a = append(a, "HTTP/1.1 "...)
		a = append(a, status...)
		a = append(a, "\r\nServer: "...)
		a = append(a, server...)
		a = append(a, "\r\nDate: "...)
		a = g.clock().AppendFormat(a, "Mon, 02 Jan 2006 15:04:05 GMT")
		a = append(a, "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "...)
		a = strconv.AppendInt(a, int64(body), 10)
		a = append(a, "\r\nConnection: keep-alive\r\n\r\n"...)
		f.arena = a
		f.lit(start)
		f.fill(body, chunkText)
	}
}

// clock is the current packet time.
func (g *gen) clock() time.Time {
	return time.UnixMicro(StartUnix*1e6 + g.now).UTC()
}

// --- HL7 v2 over MLLP on 2575 ---

func appendEUI64(b []byte, m macAddr) []byte {
	const hex = "0123456789ABCDEF"
	e := [8]byte{m[0], m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]}
	for _, x := range e {
		b = append(b, hex[x>>4], hex[x&15])
	}
	return b
}

func (g *gen) setupHL7(f *flow) {
	var c int
	if g.rng.IntN(3) == 0 {
		c = g.pickHost(classPump)
	} else {
		c = g.pickHost(classMonitor)
	}
	g.initTCP(f, g.local(c), g.local(g.pickServer(roleHL7)), 2575)
	h := &g.seg.hosts[c]
	ts := g.clock()
	n := 1 + g.rng.IntN(5)
	for i := 0; i < n; i++ {
		g.msgID++
		id := g.msgID
		f.begin(0)
		a := f.arena
		start := len(a)
		a = append(a, 0x0b)
		a = append(a, "MSH|^~\\&|"...)
		a = append(a, h.v.name...)
		a = append(a, '^')
		a = appendEUI64(a, h.mac)
		a = append(a, "^EUI-64|ICU|HIS|HOSP|"...)
		a = ts.AppendFormat(a, "20060102150405")
		a = append(a, "||ORU^R01^ORU_R01|"...)
		a = strconv.AppendUint(a, uint64(id), 10)
		a = append(a, "|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"...)
		a = append(a, "PID|||"...)
		a = strconv.AppendUint(a, uint64(100000+id%900000), 10)
		a = append(a, "^^^HOSP^MR||TEST^PATIENT^^^^^L||19700101|U\r"...)
		a = append(a, "PV1||I|ICU^^BED"...)
		a = strconv.AppendInt(a, int64(c%40+1), 10)
		a = append(a, "\rOBR|1|"...)
		a = strconv.AppendUint(a, uint64(id), 10)
		a = append(a, "^DEVICE||"...)
		a = append(a, "|182777000^monitoring of patient^SNOMED-CT|||"...)
		a = ts.AppendFormat(a, "20060102150405")
		a = append(a, "\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.150456|"...)
		a = strconv.AppendInt(a, int64(92+g.rng.IntN(8)), 10)
		a = append(a, "|262688^MDC_DIM_PERCENT^MDC|||||F|||"...)
		a = ts.AppendFormat(a, "20060102150405")
		a = append(a, "||||"...)
		a = appendEUI64(a, h.mac)
		a = append(a, "^^"...)
		a = appendEUI64(a, h.mac)
		a = append(a, "^EUI-64\rOBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.147842|"...)
		a = strconv.AppendInt(a, int64(55+g.rng.IntN(60)), 10)
		a = append(a, "|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||"...)
		a = ts.AppendFormat(a, "20060102150405")
		a = append(a, "\r\x1c\x0d"...)
		f.arena = a
		f.lit(start)

		f.begin(1)
		start = len(a)
		a = append(a, 0x0b)
		a = append(a, "MSH|^~\\&|HIS|HOSP|"...)
		a = append(a, h.v.name...)
		a = append(a, "|ICU|"...)
		a = ts.AppendFormat(a, "20060102150405")
		a = append(a, "||ACK^R01^ACK|A"...)
		a = strconv.AppendUint(a, uint64(id), 10)
		a = append(a, "|P|2.6\rMSA|AA|"...)
		a = strconv.AppendUint(a, uint64(id), 10)
		a = append(a, "\r\x1c\x0d"...)
		f.arena = a
		f.lit(start)
	}
}
