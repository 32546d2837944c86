package tls

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// identityCapture is openssl 3.0 s_server on 443 (-www) and 2762 (DICOM
// TLS, -rev) with a certificate signed by a local CA, and openssl s_client
// -tls1_2 / -tls1_3 plus curl as clients (testdata/README.md, "Identity
// captures").
const identityCapture = "../../testdata/captures/identity-tls.pcap"

func decodeCapture(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range corpustest.DecodeStreams(t, Spec(), identityCapture) {
		if d.Err != nil {
			t.Errorf("%v: unexpected error %v", d.Stream.Client, d.Err)
		}
		for _, e := range d.Emitted {
			out = append(out, line("identity-tls", e))
		}
	}
	return out
}

// captureWant is every observation the decoder makes of identity-tls.pcap.
// SNI, ALPN, version and cipher are checked against a live tshark
// run (TestCaptureTshark); the certificate subject CN, issuer CN and expiry
// are those tshark 4.0.17 and openssl x509 show for the certificate the
// script made (x509sat.uTF8String, x509af.utcTime).
var captureWant = []string{
	"identity-tls\t6\t10.77.0.61\tsender\ttls.client_hello\tclient\ttls.sni=pacs.icu.hospital.test\ttls.ja3=771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13,29-23-30-25-24,0-1-2\ttls.ja3_hash=871a754af286dfb70c1b53c6887c62e0\ttls.ja4=t12d280700_d943125447b4_e7e480e5a997",
	"identity-tls\t8\t10.77.0.60\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c",
	"identity-tls\t8\t10.77.0.60\tsender\ttls.certificate\tserver\ttls.cert_subject=pacs.icu.hospital.test\ttls.cert_issuer=ICU Test Root CA\ttls.cert_expiry=2029-02-25T06:52:01Z",
	"identity-tls\t20\t10.77.0.61\tsender\ttls.client_hello\tclient\ttls.sni=pacs.icu.hospital.test\ttls.supported_versions=1.3\ttls.ja3=771,4866-4867-4865-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2\ttls.ja3_hash=f146948b4a599d4d7ddf071b74696983\ttls.ja4=t13d041000_16476d049b0b_78f1d400d464",
	"identity-tls\t22\t10.77.0.60\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
	"identity-tls\t36\t10.77.0.61\tsender\ttls.client_hello\tclient\ttls.sni=pacs.icu.hospital.test\ttls.ja3=771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13,29-23-30-25-24,0-1-2\ttls.ja3_hash=871a754af286dfb70c1b53c6887c62e0\ttls.ja4=t12d280700_d943125447b4_e7e480e5a997",
	"identity-tls\t36\t10.77.0.61\treceiver\ttls.client_hello\tserver\ttls.dicom=true",
	"identity-tls\t38\t10.77.0.60\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.dicom=true",
	"identity-tls\t38\t10.77.0.60\tsender\ttls.certificate\tserver\ttls.cert_subject=pacs.icu.hospital.test\ttls.cert_issuer=ICU Test Root CA\ttls.cert_expiry=2029-02-25T06:52:01Z",
	"identity-tls\t50\t10.77.0.61\tsender\ttls.client_hello\tclient\ttls.sni=pacs.icu.hospital.test\ttls.supported_versions=1.3\ttls.ja3=771,4866-4867-4865-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2\ttls.ja3_hash=f146948b4a599d4d7ddf071b74696983\ttls.ja4=t13d041000_16476d049b0b_78f1d400d464",
	"identity-tls\t50\t10.77.0.61\treceiver\ttls.client_hello\tserver\ttls.dicom=true",
	"identity-tls\t52\t10.77.0.60\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302\ttls.dicom=true",
	"identity-tls\t66\t10.77.0.61\tsender\ttls.client_hello\tclient\ttls.sni=pacs.icu.hospital.test\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-16-22-23-49-13-43-45-51-21,29-23-30-25-24-256-257-258-259-260,0-1-2\ttls.ja3_hash=0149f47eabf9a20d0893e2a44e5a6323\ttls.ja4=t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
	"identity-tls\t68\t10.77.0.60\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
}

func TestCapture(t *testing.T) {
	got := decodeCapture(t)
	if !slices.Equal(got, captureWant) {
		t.Errorf("expected %q\ngot      %q", captureWant, got)
	}
}

// TestCaptureTshark checks SNI, ALPN, negotiated version and
// cipher per frame against a live tshark run, when tshark is installed.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	cmd := exec.Command(tshark, "-r", identityCapture, "-d", "tcp.port==2762,tls", "-Y", "tls.handshake.type==1 || tls.handshake.type==2",
		"-T", "fields", "-E", "separator=/t", "-E", "aggregator=,", "-e", "frame.number", "-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.version",
		"-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions.supported_version")
	cmd.Env = append(cmd.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	got := decodeCapture(t)
	find := func(frame, source string) string {
		for _, l := range got {
			f := strings.Split(l, "\t")
			if f[1] == frame && f[3] == "sender" && f[4] == source {
				return l
			}
		}
		return ""
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) != 7 {
			t.Fatalf("tshark line %q", line)
		}
		var want []string
		var l string
		if slices.Contains(strings.Split(f[1], ","), "1") {
			l = find(f[0], "tls.client_hello")
			want = []string{"tls.sni=" + f[2]}
			if f[3] != "" {
				want = append(want, "tls.alpn="+f[3])
			}
		} else {
			l = find(f[0], "tls.server_hello")
			version := map[string]string{"0x0304": "1.3", "": "1.2"}[f[6]]
			want = []string{"tls.cipher=0x" + strings.TrimPrefix(f[5], "0x"), "tls.version=" + version}
		}
		for _, w := range want {
			if !slices.Contains(strings.Split(l, "\t"), w) {
				t.Errorf("frame %s: expected %s in %q", f[0], w, l)
			}
		}
		n++
	}
	if n != 10 {
		t.Errorf("expected 10 hellos from tshark, got %d", n)
	}
}
