package dhcp

// corpusFiles are the corpus captures that hold DHCPv4.
var corpusFiles = []string{
	"dhcp/tcpdump-dhcp-mud.pcap",
	"dhcp/tcpdump-dhcp-option-33.pcap",
	"dhcp/tcpdump-dhcp-rfc3004.pcap",
	"dhcp/tcpdump-dhcp-rfc4388.pcap",
	"dhcp/tcpdump-dhcp-rfc5859.pcap",
	"dhcp/zeek-dhcp.pcap",
	"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap",
	"dhcp/zeek-dhcp_inform.pcap",
	"dhcp/zeek-dhcp_time_and_nameserver.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}
