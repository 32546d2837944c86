package tls

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures holding TLS handshakes. The ndpi
// "chrome" file holds a single server application-data record, no hello:
// it must yield nothing.
var corpusFiles = []string{
	"tls/ndpi-443-chrome.pcap",
	"tls/ndpi-443-curl.pcap",
	"tls/ndpi-443-safari.pcap",
	"tls/zeek-chrome-34-google.pcap",
	"tls/zeek-client-certificate.pcap",
	"tls/zeek-ecdhe.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// line formats an emitted observation compactly, tab separated: file, frame,
// sender address, about, source, role, then the facts.
func line(file string, e corpustest.Emitted) string {
	o := e.Obs
	about := "sender"
	if o.About == protocols.Receiver {
		about = "receiver"
	}
	parts := []string{file, strconv.Itoa(e.Frame), e.From.Addr().String(), about, o.Source, o.Role}
	for _, f := range o.Facts {
		parts = append(parts, f.Name+"="+f.Value)
	}
	if o.Protocol != "tls" {
		parts = append(parts, "BAD protocol")
	}
	return strings.Join(parts, "\t")
}

func decodeFile(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	for _, d := range corpustest.DecodeStreams(t, Spec(), corpustest.File(t, file)) {
		if d.Err != nil {
			t.Errorf("%s %v: unexpected error %v", file, d.Stream.Client, d.Err)
		}
		for _, e := range d.Emitted {
			out = append(out, line(file, e))
		}
	}
	return out
}

// corpusWant is every observation the decoder makes of the corpus. SNI,
// ALPN, supported versions, JA3 string and hash, version and cipher were
// checked against tshark 4.0 (TestCorpusTshark), the certificate names and
// expiry against openssl; JA4 values follow from the algorithm checked on
// the published example (TestPublishedVectors).
var corpusWant = []string{
	"tls/ndpi-443-curl.pcap\t4\t192.168.1.13\tsender\ttls.client_hello\tclient\ttls.sni=www.ntop.org\ttls.alpn=h2,http/1.1\ttls.ja3=771,52244-52243-52245-49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-65413-196-195-136-135-129-49202-49198-49194-49190-49167-49157-157-61-53-192-132-49199-49195-49191-49187-49171-49161-162-158-103-64-51-50-190-189-69-68-49201-49197-49193-49189-49166-49156-156-60-47-186-65-49170-49160-22-19-49165-49155-10-255,0-11-10-13-13172-16-21,14-13-25-28-11-12-27-24-9-10-26-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2\ttls.ja3_hash=2a26b1a62e40d25d4de3babc9d532f30\ttls.ja4=t12d6707h2_2955a3196ffa_c83f907a73d3",
	"tls/ndpi-443-curl.pcap\t6\t178.62.197.130\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02f\ttls.alpn=h2",
	"tls/ndpi-443-curl.pcap\t7\t178.62.197.130\tsender\ttls.certificate\tserver\ttls.cert_subject=www.ntop.org\ttls.cert_issuer=Let's Encrypt Authority X3\ttls.cert_expiry=2020-03-16T01:17:28Z",
	"tls/ndpi-443-safari.pcap\t4\t192.168.1.13\tsender\ttls.client_hello\tclient\ttls.sni=www.ntop.org\ttls.alpn=h2,h2-16,h2-15,h2-14,spdy/3.1,spdy/3,http/1.1\ttls.ja3=771,49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47,65281-0-23-13-5-13172-18-16-11-10,29-23-24-25,0\ttls.ja3_hash=a69708a64f853c3bcc214c2c5faf84f3\ttls.ja4=t12d2010h2_2a284e3b0c56_f05fdf8c38a9",
	"tls/ndpi-443-safari.pcap\t6\t178.62.197.130\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xcca8\ttls.alpn=h2",
	"tls/ndpi-443-safari.pcap\t7\t178.62.197.130\tsender\ttls.certificate\tserver\ttls.cert_subject=www.ntop.org\ttls.cert_issuer=Let's Encrypt Authority X3\ttls.cert_expiry=2020-03-16T01:17:28Z",
	"tls/zeek-chrome-34-google.pcap\t4\t192.168.4.149\tsender\ttls.client_hello\tclient\ttls.sni=google.de\ttls.alpn=spdy/3,spdy/3.1,http/1.1\ttls.ja3=771,49195-49199-158-52244-52243-49162-49161-49171-49172-49159-49169-51-50-57-156-47-53-10-5-4,0-65281-10-11-35-13172-16-30032-5-13-18,23-24-25,0\ttls.ja3_hash=a607f3a5c94c2ee592af1456f36c8367\ttls.ja4=t12d2011s3_8dd61975155f_06a4338d0495",
	"tls/zeek-chrome-34-google.pcap\t6\t74.125.239.152\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02f\ttls.alpn=spdy/3.1",
	"tls/zeek-chrome-34-google.pcap\t8\t74.125.239.152\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google.de\ttls.cert_issuer=Google Internet Authority G2\ttls.cert_expiry=2014-07-08T00:00:00Z",
	"tls/zeek-client-certificate.pcap\t4\t192.168.0.64\tsender\ttls.client_hello\tclient\ttls.sni=certauth.idrix.fr\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2\ttls.ja3=771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0\ttls.ja3_hash=579ccef312d18482fc42e2b822ca2430\ttls.ja4=t13d1715h2_5b57614c22b0_3d5424432f57",
	"tls/zeek-client-certificate.pcap\t6\t54.36.191.227\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc030\ttls.alpn=http/1.1",
	"tls/zeek-client-certificate.pcap\t11\t54.36.191.227\tsender\ttls.certificate\tserver\ttls.cert_subject=certauth.idrix.fr\ttls.cert_issuer=R3\ttls.cert_expiry=2023-04-04T16:14:06Z",
	"tls/zeek-ecdhe.pcap\t4\t192.168.18.50\tsender\ttls.client_hello\tclient\ttls.ja3=771,49172-255,11-10-35-13-15,14-13-25-11-12-24-9-10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2\ttls.ja3_hash=29d8afc9e0a4d38d138ec2643966815f\ttls.ja4=t12i020500_d0ac5cb1209a_a1e935682795",
	"tls/zeek-ecdhe.pcap\t6\t74.125.239.97\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc014",
	"tls/zeek-ecdhe.pcap\t9\t74.125.239.97\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google.com\ttls.cert_issuer=Google Internet Authority G2\ttls.cert_expiry=2014-07-08T00:00:00Z",
	"device-mixed/ndpi-android.pcap\t101\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=clients1.google.com\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,65281-0-23-13-5-11-10,29-23-24,0\ttls.ja3_hash=c60d01d600aacc2c04844595ce224279\ttls.ja4=t12d140700_c866b44c5a26_036209cd1ead",
	"device-mixed/ndpi-android.pcap\t104\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02b",
	"device-mixed/ndpi-android.pcap\t106\t216.239.38.120\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:47:11Z",
	"device-mixed/ndpi-android.pcap\t126\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=play.googleapis.com\ttls.alpn=http/1.1\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,65281-0-23-35-13-5-16-11-10,29-23-24,0\ttls.ja3_hash=d8c87b9bfde38897979e41242626c2f3\ttls.ja4=t12d1409h1_c866b44c5a26_b39be8c56a14",
	"device-mixed/ndpi-android.pcap\t129\t172.217.20.74\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02b\ttls.alpn=http/1.1",
	"device-mixed/ndpi-android.pcap\t131\t172.217.20.74\tsender\ttls.certificate\tserver\ttls.cert_subject=*.storage.googleapis.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:45:22Z",
	"device-mixed/ndpi-android.pcap\t153\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=connectivitycheck.gstatic.com\ttls.alpn=http/1.1\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,65281-0-23-35-13-5-16-11-10,29-23-24,0\ttls.ja3_hash=d8c87b9bfde38897979e41242626c2f3\ttls.ja4=t12d1409h1_c866b44c5a26_b39be8c56a14",
	"device-mixed/ndpi-android.pcap\t157\t172.217.18.3\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02b\ttls.alpn=http/1.1",
	"device-mixed/ndpi-android.pcap\t159\t172.217.18.3\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:47:11Z",
	"device-mixed/ndpi-android.pcap\t140\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=connectivitycheck.gstatic.com\ttls.alpn=http/1.1\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,65281-0-23-35-13-5-16-11-10,29-23-24,0\ttls.ja3_hash=d8c87b9bfde38897979e41242626c2f3\ttls.ja4=t12d1409h1_c866b44c5a26_b39be8c56a14",
	"device-mixed/ndpi-android.pcap\t144\t172.217.18.3\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02b\ttls.alpn=http/1.1",
	"device-mixed/ndpi-android.pcap\t146\t172.217.18.3\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:47:11Z",
	"device-mixed/ndpi-android.pcap\t171\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=app-measurement.com\ttls.alpn=http/1.1\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13,29-23-24,0\ttls.ja3_hash=6ec2896feff5746955f700c0023f5804\ttls.ja4=t12d1409h1_c866b44c5a26_b39be8c56a14",
	"device-mixed/ndpi-android.pcap\t174\t172.217.168.206\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02f\ttls.alpn=http/1.1",
	"device-mixed/ndpi-android.pcap\t176\t172.217.168.206\tsender\ttls.certificate\tserver\ttls.cert_subject=*.google-analytics.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:37:03Z",
	"device-mixed/ndpi-android.pcap\t220\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=android.clients.google.com\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-5-13-51-45-43-21,29-23-24,0\ttls.ja3_hash=9c815150ea821166faecf80757d8826a\ttls.ja4=t13d171100_5b57614c22b0_3f5d972527c0",
	"device-mixed/ndpi-android.pcap\t236\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t257\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=android.clients.google.com\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-5-13-51-45-43-21,29-23-24,0\ttls.ja3_hash=9c815150ea821166faecf80757d8826a\ttls.ja4=t13d171100_5b57614c22b0_3f5d972527c0",
	"device-mixed/ndpi-android.pcap\t264\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t219\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=android.clients.google.com\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-5-13-51-45-43-21,29-23-24,0\ttls.ja3_hash=9c815150ea821166faecf80757d8826a\ttls.ja4=t13d171100_5b57614c22b0_3f5d972527c0",
	"device-mixed/ndpi-android.pcap\t228\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t241\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=datasaver.googleapis.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t250\t172.217.21.202\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t256\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=www.google.com\ttls.alpn=http/1.1\ttls.ja3=771,49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13,29-23-24,0\ttls.ja3_hash=6ec2896feff5746955f700c0023f5804\ttls.ja4=t12d1409h1_c866b44c5a26_b39be8c56a14",
	"device-mixed/ndpi-android.pcap\t260\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02b\ttls.alpn=http/1.1",
	"device-mixed/ndpi-android.pcap\t261\t216.239.38.120\tsender\ttls.certificate\tserver\ttls.cert_subject=www.google.com\ttls.cert_issuer=GTS CA 1O1\ttls.cert_expiry=2020-05-06T11:47:41Z",
	"device-mixed/ndpi-android.pcap\t288\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=accounts.google.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t298\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t340\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=proxy.googlezip.net\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t349\t172.217.20.76\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t357\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=accounts.google.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t361\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t481\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=semanticlocation-pa.googleapis.com\ttls.alpn=h2\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-16-5-13-51-45-43-21,29-23-24,0\ttls.ja3_hash=33490b1d5377580b19f7f9b5849d7991\ttls.ja4=t13d1712h2_5b57614c22b0_3f5d972527c0",
	"device-mixed/ndpi-android.pcap\t404\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=datasaver.googleapis.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-41,29-23-24,0\ttls.ja3_hash=554719594ba90b02ae410c297c6e50ad\ttls.ja4=t13d1615h2_46e7e9700bed_13c35ee53a8e",
	"device-mixed/ndpi-android.pcap\t437\t172.217.21.202\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t408\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=proxy.googlezip.net\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t447\t172.217.20.76\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t405\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=www.google.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0\ttls.ja3_hash=66918128f1b9b03303d77c6f2eefd128\ttls.ja4=t13d1615h2_46e7e9700bed_45f260be83e2",
	"device-mixed/ndpi-android.pcap\t434\t216.239.38.120\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-android.pcap\t480\t192.168.2.16\tsender\ttls.client_hello\tclient\ttls.sni=android.googleapis.com\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49195-49196-52393-49199-49200-52392-49161-49162-49171-49172-156-157-47-53,0-23-65281-10-11-5-13-30032-51-45-43-21,29-23-24,0\ttls.ja3_hash=629b587f706aee60430ec3879c6edb66\ttls.ja4=t13d171200_5b57614c22b0_931b75671d98",
	"device-mixed/ndpi-android.pcap\t500\t172.217.22.10\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-iphone.pcap\t68\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=p26-fmfmobile.icloud.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t102\t17.248.185.140\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.alpn=http/1.1",
	"device-mixed/ndpi-iphone.pcap\t106\t17.248.185.140\tsender\ttls.certificate\tserver\ttls.cert_subject=fmfmobile.icloud.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2021-01-07T19:54:00Z",
	"device-mixed/ndpi-iphone.pcap\t72\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gspe35-ssl.ls.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-35-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=55271a105172d5f225e4704755b9b250\ttls.ja4=t13d2614h2_2802a3db6c62_0e42e90cf648",
	"device-mixed/ndpi-iphone.pcap\t78\t95.101.25.53\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
	"device-mixed/ndpi-iphone.pcap\t89\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gsp85-ssl.ls.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-35-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=55271a105172d5f225e4704755b9b250\ttls.ja4=t13d2614h2_2802a3db6c62_0e42e90cf648",
	"device-mixed/ndpi-iphone.pcap\t128\t17.130.2.46\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02f\ttls.alpn=http/1.1",
	"device-mixed/ndpi-iphone.pcap\t130\t17.130.2.46\tsender\ttls.certificate\tserver\ttls.cert_subject=*.ls.apple.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2021-04-13T23:17:29Z",
	"device-mixed/ndpi-iphone.pcap\t98\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=mesu.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t124\t17.253.105.202\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-iphone.pcap\t96\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=mesu.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t112\t17.253.105.202\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1301",
	"device-mixed/ndpi-iphone.pcap\t157\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gateway.icloud.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t179\t17.248.176.75\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.alpn=h2",
	"device-mixed/ndpi-iphone.pcap\t185\t17.248.176.75\tsender\ttls.certificate\tserver\ttls.cert_subject=gateway.icloud.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2020-11-06T18:56:00Z",
	"device-mixed/ndpi-iphone.pcap\t206\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=p26-keyvalueservice.icloud.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t233\t17.248.185.87\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.alpn=http/1.1",
	"device-mixed/ndpi-iphone.pcap\t237\t17.248.185.87\tsender\ttls.certificate\tserver\ttls.cert_subject=keyvalueservice.icloud.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2021-01-07T19:45:00Z",
	"device-mixed/ndpi-iphone.pcap\t202\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=iphone-ld.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t212\t92.122.252.82\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
	"device-mixed/ndpi-iphone.pcap\t222\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=cl4.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t225\t104.73.61.30\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
	"device-mixed/ndpi-iphone.pcap\t268\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gateway.icloud.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t270\t17.248.176.75\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.alpn=h2",
	"device-mixed/ndpi-iphone.pcap\t272\t17.248.176.75\tsender\ttls.certificate\tserver\ttls.cert_subject=gateway.icloud.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2020-11-06T18:56:00Z",
	"device-mixed/ndpi-iphone.pcap\t304\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gsa.apple.com\ttls.alpn=http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h1_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t325\t17.137.166.35\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02f\ttls.alpn=http/1.1",
	"device-mixed/ndpi-iphone.pcap\t327\t17.137.166.35\tsender\ttls.certificate\tserver\ttls.cert_subject=gsa.apple.com\ttls.cert_issuer=Apple Server Authentication CA\ttls.cert_expiry=2020-04-05T00:55:40Z",
	"device-mixed/ndpi-iphone.pcap\t323\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=gateway.icloud.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t330\t17.248.176.75\tsender\ttls.server_hello\tserver\ttls.version=1.2\ttls.cipher=0xc02c\ttls.alpn=h2",
	"device-mixed/ndpi-iphone.pcap\t332\t17.248.176.75\tsender\ttls.certificate\tserver\ttls.cert_subject=gateway.icloud.com\ttls.cert_issuer=Apple IST CA 2 - G1\ttls.cert_expiry=2020-11-06T18:56:00Z",
	"device-mixed/ndpi-iphone.pcap\t352\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=play.itunes.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t364\t92.123.77.26\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
	"device-mixed/ndpi-iphone.pcap\t427\t192.168.2.17\tsender\ttls.client_hello\tclient\ttls.sni=sync.itunes.apple.com\ttls.alpn=h2,http/1.1\ttls.supported_versions=1.3,1.2,1.1,1.0\ttls.ja3=771,4865-4866-4867-49196-49195-49188-49187-49162-49161-52393-49200-49199-49192-49191-49172-49171-52392-157-156-61-60-53-47-49160-49170-10,65281-0-23-13-5-18-16-11-51-45-43-10-21,29-23-24-25,0\ttls.ja3_hash=6fa3244afc6bb6f9fad207b6b52af26b\ttls.ja4=t13d2613h2_2802a3db6c62_845d286b0d67",
	"device-mixed/ndpi-iphone.pcap\t432\t95.101.24.53\tsender\ttls.server_hello\tserver\ttls.version=1.3\ttls.cipher=0x1302",
}

func TestCorpus(t *testing.T) {
	var got []string
	for _, file := range corpusFiles {
		got = append(got, decodeFile(t, file)...)
	}
	if os.Getenv("TLS_PRINT_WANT") == "1" {
		for _, l := range got {
			t.Logf("%q,", l)
		}
	}
	for i := range max(len(got), len(corpusWant)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(corpusWant) {
			w = corpusWant[i]
		}
		if g != w {
			t.Errorf("Test %d:\nexpected %s\ngot      %s", i, w, g)
		}
	}
}

// TestCorpusKnownFacts checks the names the corpus manifest lists.
func TestCorpusKnownFacts(t *testing.T) {
	tests := []struct{ file, fact string }{
		{"tls/ndpi-443-curl.pcap", "tls.sni=www.ntop.org"},
		{"tls/ndpi-443-safari.pcap", "tls.sni=www.ntop.org"},
		{"tls/zeek-chrome-34-google.pcap", "tls.sni=google.de"},
		{"tls/zeek-client-certificate.pcap", "tls.sni=certauth.idrix.fr"},
		{"tls/zeek-client-certificate.pcap", "tls.cert_subject=certauth.idrix.fr"},
		{"device-mixed/ndpi-android.pcap", "tls.cert_subject=*.google.com"},
		{"device-mixed/ndpi-iphone.pcap", "tls.sni=mesu.apple.com"},
	}
	for i, tc := range tests {
		found := false
		for _, l := range decodeFile(t, tc.file) {
			found = found || slices.Contains(strings.Split(l, "\t"), tc.fact)
		}
		if !found {
			t.Errorf("Test %d: expected %s in %s", i, tc.fact, tc.file)
		}
	}
}

func run(t *testing.T, name string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.String())
	}
	return string(out)
}

// TestCorpusTshark derives the expected facts of every hello from a live
// tshark run (and of every leaf certificate from openssl, when installed)
// and compares them with the decoder's, per file, as sorted sets of
// "frame sender fact" strings.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	openssl, _ := exec.LookPath("openssl")
	for _, file := range corpusFiles {
		var got []string
		for _, l := range decodeFile(t, file) {
			f := strings.Split(l, "\t")
			for _, kv := range f[6:] {
				if strings.HasPrefix(kv, FactJA4+"=") || (openssl == "" && strings.HasPrefix(kv, "tls.cert_")) {
					continue // tshark 4.0 has no JA4
				}
				got = append(got, f[1]+" "+f[2]+" "+kv)
			}
		}
		out := run(t, tshark, nil, "-o", "tcp.reassemble_out_of_order:TRUE", "-r", corpustest.File(t, file), "-Y", "tls.handshake.type==1 or tls.handshake.type==2 or tls.handshake.type==11",
			"-T", "fields", "-E", "separator=/t", "-E", "aggregator=|", "-E", "occurrence=a",
			"-e", "frame.number", "-e", "ip.src", "-e", "tls.handshake.type",
			"-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.extensions_alpn_str",
			"-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3",
			"-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.certificate")
		var want []string
		clients := map[string]bool{}
		for l := range strings.Lines(out) {
			f := strings.Split(strings.TrimRight(l, "\r\n"), "\t")
			if len(f) != 11 {
				t.Fatalf("tshark line %q", l)
			}
			add := func(name, v string) {
				if v != "" {
					want = append(want, f[0]+" "+f[1]+" "+name+"="+v)
				}
			}
			types := strings.Split(f[2], "|")
			if slices.Contains(types, "1") {
				clients[f[1]] = true
				add(FactSNI, f[3])
				add(FactALPN, strings.ReplaceAll(f[4], "|", ","))
				var vs []string
				for _, v := range strings.Split(f[5], "|") {
					var n uint16
					if b, err := hex.DecodeString(strings.TrimPrefix(v, "0x")); err == nil && len(b) == 2 {
						n = uint16(b[0])<<8 | uint16(b[1])
					}
					if v != "" && !isGREASE(n) {
						vs = append(vs, versionName(n))
					}
				}
				add(FactSupportedVersions, strings.Join(vs, ","))
				add(FactJA3, f[6])
				add(FactJA3Hash, f[7])
			}
			if slices.Contains(types, "2") {
				version := strings.Split(f[8], "|")[0]
				if f[5] != "" {
					version = f[5]
				}
				b, _ := hex.DecodeString(strings.TrimPrefix(version, "0x"))
				if len(b) == 2 {
					add(FactVersion, versionName(uint16(b[0])<<8|uint16(b[1])))
				}
				add(FactCipher, f[9])
				add(FactALPN, f[4])
			}
			// Client certificates (TLS 1.2 mutual authentication) are not
			// decoded: their subject is often a person.
			if slices.Contains(types, "11") && openssl != "" && f[10] != "" && !clients[f[1]] {
				der, err := hex.DecodeString(strings.ReplaceAll(strings.Split(f[10], "|")[0], ":", ""))
				if err != nil {
					t.Fatal(err)
				}
				o := run(t, openssl, der, "x509", "-inform", "DER", "-noout", "-subject", "-issuer", "-enddate", "-nameopt", "multiline,utf8")
				add(FactCertSubject, opensslCN(o, "subject="))
				add(FactCertIssuer, opensslCN(o, "issuer="))
				if _, end, ok := strings.Cut(o, "notAfter="); ok {
					add(FactCertExpiry, opensslDate(t, strings.TrimSpace(end)))
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: expected %s, missing", file, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("%s: unexpected %s", file, g)
			}
		}
	}
}

// opensslCN returns the commonName of the section of openssl's multiline
// name output that starts with header ("subject=" or "issuer=").
func opensslCN(out, header string) string {
	_, rest, ok := strings.Cut(out, header)
	if !ok {
		return ""
	}
	for l := range strings.Lines(rest) {
		if l == "\n" {
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			break
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "commonName" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// opensslDate turns openssl's "Jan  2 15:04:05 2006 GMT" into RFC 3339 UTC.
func opensslDate(t *testing.T, s string) string {
	t.Helper()
	d, err := time.Parse("Jan _2 15:04:05 2006 MST", s)
	if err != nil {
		t.Fatalf("openssl date %q: %v", s, err)
	}
	return d.UTC().Format(time.RFC3339)
}
