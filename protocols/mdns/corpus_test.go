package mdns

var corpusFiles = []string{
	"dns-mdns/zeek-mdns.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}
