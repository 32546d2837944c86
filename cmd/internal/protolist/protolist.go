// Package protolist is the sensor's list of protocol decoders, built
// explicitly in one place for the commands that run the packet path.
package protolist

import (
	"github.com/iomt-sensor/iomt-sensor/protocols"

	"github.com/iomt-sensor/iomt-sensor/protocols/arp"
	"github.com/iomt-sensor/iomt-sensor/protocols/cdp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dhcp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dhcpv6"
	"github.com/iomt-sensor/iomt-sensor/protocols/dicom"
	"github.com/iomt-sensor/iomt-sensor/protocols/dns"
	"github.com/iomt-sensor/iomt-sensor/protocols/ftp"
	"github.com/iomt-sensor/iomt-sensor/protocols/hl7"
	httpproto "github.com/iomt-sensor/iomt-sensor/protocols/http"
	"github.com/iomt-sensor/iomt-sensor/protocols/intellivue"
	"github.com/iomt-sensor/iomt-sensor/protocols/lldp"
	"github.com/iomt-sensor/iomt-sensor/protocols/mdns"
	"github.com/iomt-sensor/iomt-sensor/protocols/netbios"
	"github.com/iomt-sensor/iomt-sensor/protocols/poct1a"
	"github.com/iomt-sensor/iomt-sensor/protocols/snmp"
	"github.com/iomt-sensor/iomt-sensor/protocols/ssdp"
	"github.com/iomt-sensor/iomt-sensor/protocols/syslog"
	"github.com/iomt-sensor/iomt-sensor/protocols/telnet"
	tlsproto "github.com/iomt-sensor/iomt-sensor/protocols/tls"
	"github.com/iomt-sensor/iomt-sensor/protocols/wsdiscovery"
)

// Specs returns every protocol decoder, in the order their detection is
// tried when no port hints at one.
func Specs() []protocols.Spec {
	return []protocols.Spec{
		arp.Spec(),
		dhcp.Spec(),
		dhcpv6.Spec(),
		dicom.Spec(),
		hl7.Spec(),
		dns.Spec(),
		mdns.Spec(),
		ssdp.Spec(),
		wsdiscovery.Spec(),
		netbios.Spec(),
		lldp.Spec(),
		cdp.Spec(),
		snmp.Spec(),
		syslog.Spec(),
		syslog.TCPSpec(),
		httpproto.Spec(),
		tlsproto.Spec(),
		telnet.Spec(),
		ftp.Spec(),
		intellivue.Spec(),
		poct1a.Spec(),
	}
}
