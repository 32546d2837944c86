package gencap

import (
	"fmt"
	"math/rand/v2"
)

// hostClass is what a local host is, which decides the flows it starts.
type hostClass uint8

const (
	classWorkstation hostClass = iota
	classMonitor
	classPump
	classImaging
	classPrinter
	classServer
	classRouter
)

// vendor is one hardware maker with a real IEEE OUI and what its devices
// typically say in DHCP and HTTP.
type vendor struct {
	name        string
	oui         [3]byte
	class       hostClass
	prefix      string // hostname prefix
	vendorClass string // DHCP option 60
	params      []byte // DHCP option 55
	userAgent   string
	ttl         byte
	weight      int
}

var (
	paramsWindows = []byte{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252}
	paramsLinux   = []byte{1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42}
	paramsEmbed   = []byte{1, 3, 6, 12, 15, 28, 42}
	paramsVxWorks = []byte{1, 3, 6, 15, 44, 46, 47}
)

// vendors lists the makers whose OUIs appear on the segment. OUIs are taken
// from the IEEE registry (as shipped in Wireshark's manuf file).
var vendors = []vendor{
	{"Dell", [3]byte{0x18, 0xa9, 0x9b}, classWorkstation, "WS", "MSFT 5.0", paramsWindows, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", 128, 14},
	{"Dell", [3]byte{0xd4, 0xbe, 0xd9}, classWorkstation, "WS", "MSFT 5.0", paramsWindows, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0", 128, 10},
	{"Intel", [3]byte{0xa4, 0xbf, 0x01}, classWorkstation, "LT", "MSFT 5.0", paramsWindows, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0", 128, 12},
	{"Intel", [3]byte{0x00, 0x1b, 0x21}, classWorkstation, "RAD", "dhcpcd-9.4.1:Linux-6.1.0:x86_64:GenuineIntel", paramsLinux, "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0", 64, 5},
	{"HP", [3]byte{0x3c, 0xd9, 0x2b}, classWorkstation, "WS", "MSFT 5.0", paramsWindows, "Microsoft-CryptoAPI/10.0", 128, 8},
	{"HP", [3]byte{0x00, 0x25, 0xb3}, classPrinter, "PRN", "Hewlett-Packard JetDirect", paramsVxWorks, "HP-ChaiSOE/1.0", 64, 3},
	{"Zebra", [3]byte{0x00, 0x07, 0x4d}, classPrinter, "LBL", "Zebra Technologies", paramsEmbed, "Zebra-PrintServer/1.0", 64, 2},
	{"Philips", [3]byte{0x00, 0x09, 0xfb}, classMonitor, "MON", "Philips IntelliVue", paramsEmbed, "IntelliVue/M.00.03", 64, 9},
	{"Philips", [3]byte{0x00, 0x09, 0x5c}, classImaging, "US", "Philips Ultrasound", paramsWindows, "Philips-EPIQ/9.0", 128, 2},
	{"GE Healthcare", [3]byte{0x44, 0x4b, 0x5d}, classImaging, "CT", "GEHC", paramsLinux, "GEHC-Revolution/2.0", 64, 3},
	{"GE Healthcare", [3]byte{0x08, 0x00, 0x19}, classMonitor, "MON", "GEHC CARESCAPE", paramsEmbed, "CARESCAPE/3.1", 64, 5},
	{"Siemens", [3]byte{0x00, 0x0e, 0x8c}, classImaging, "MR", "Siemens syngo", paramsWindows, "syngo/VE11", 128, 2},
	{"Siemens Healthineers", [3]byte{0x00, 0x18, 0x65}, classImaging, "LAB", "Siemens Healthcare Diagnostics", paramsWindows, "Atellica/1.2", 128, 1},
	{"Carestream", [3]byte{0x00, 0x1d, 0x4a}, classImaging, "DR", "Carestream DRX", paramsWindows, "Carestream-DRX/5.7", 128, 2},
	{"FUJIFILM", [3]byte{0x88, 0xb4, 0x36}, classImaging, "CR", "FUJIFILM FCR", paramsWindows, "FCR-Prima/1.0", 128, 1},
	{"Mindray", [3]byte{0x00, 0x0f, 0x14}, classMonitor, "MON", "Mindray BeneVision", paramsEmbed, "BeneVision/1.3", 64, 5},
	{"Draeger", [3]byte{0x00, 0x30, 0xe6}, classMonitor, "MON", "Draeger Infinity", paramsVxWorks, "Infinity-Delta/VF10", 64, 4},
	{"Nihon Kohden", [3]byte{0x00, 0xa0, 0x9a}, classMonitor, "MON", "Nihon Kohden", paramsEmbed, "NK-LifeScope/02-30", 64, 2},
	{"Spacelabs", [3]byte{0x00, 0xa0, 0xaa}, classMonitor, "MON", "Spacelabs Xprezzon", paramsEmbed, "Xprezzon/1.1", 64, 2},
	{"Masimo", [3]byte{0x08, 0x09, 0xb6}, classMonitor, "SPO2", "Masimo Root", paramsEmbed, "Masimo-Root/1.6", 64, 2},
	{"Baxter", [3]byte{0x58, 0x42, 0xe4}, classPump, "PUMP", "Baxter Spectrum IQ", paramsEmbed, "Spectrum-IQ/10.1", 64, 6},
	{"B. Braun", [3]byte{0x00, 0x12, 0x21}, classPump, "PUMP", "B.Braun Space", paramsEmbed, "SpaceStation/1.8", 64, 4},
	{"CareFusion", [3]byte{0xf8, 0xc6, 0x78}, classPump, "PUMP", "Alaris PC", paramsEmbed, "Alaris-PCU/12.1", 64, 5},
	{"Becton Dickinson", [3]byte{0x9c, 0xc8, 0xae}, classPump, "PUMP", "BD Alaris", paramsEmbed, "BD-Alaris/12.3", 64, 2},
}

// serverVendors make the local servers (HP and Dell rack servers).
var serverVendors = []vendor{
	{"HP", [3]byte{0x00, 0x17, 0xa4}, classServer, "SRV", "", nil, "", 128, 1},
	{"Dell", [3]byte{0x00, 0x26, 0xb9}, classServer, "SRV", "", nil, "", 64, 1},
}

// routerOUIs are Cisco Systems blocks used for the gateways.
var routerOUIs = [][3]byte{{0x00, 0x00, 0x0c}, {0x00, 0x01, 0x42}}

// host is one station on the segment.
type host struct {
	mac      macAddr
	ip       ip4
	name     string
	v        *vendor
	gw       int // index of the router this host uses
	nextPort uint16
	ttl      byte
}

// remote is a public server reached through a router.
type remote struct {
	ip   ip4
	name string
	ttl  byte
}

// serverRole names the local service a server host provides.
type serverRole uint8

const (
	roleDHCP serverRole = iota
	roleDNS
	rolePACS
	roleHL7
	roleFile
	roleWeb
	numRoles
)

// segment is the simulated network: hosts, routers and public servers.
type segment struct {
	hosts   []host
	routers []int
	servers [numRoles][]int
	byClass [classRouter + 1][]int
	remotes []remote
}

var publicNames = []string{
	"login.microsoftonline.com", "outlook.office365.com", "www.office.com", "teams.microsoft.com",
	"settings-win.data.microsoft.com", "ctldl.windowsupdate.com", "update.googleapis.com",
	"www.google.com", "clients4.google.com", "fonts.gstatic.com", "cdn.jsdelivr.net",
	"api.epic.com", "fhir.cerner.com", "services.gehealthcare.com", "remote.philips.com",
	"smartremoteservices.siemens-healthineers.com", "cloud.mindray.com", "api.masimo.com",
	"www.uptodate.com", "pubmed.ncbi.nlm.nih.gov", "ocsp.digicert.com", "crl.pki.goog",
	"time.windows.com", "ecs.office.com", "edge.microsoft.com", "www.bing.com",
	"zoom.us", "static.zoom.us", "slack.com", "s3.amazonaws.com", "portal.azure.com",
	"sentinel.crowdstrike.com", "ts01-b.cloudsink.net", "www.cdc.gov", "www.who.int",
}

// publicPrefixes are /16 blocks of large public networks.
var publicPrefixes = [][2]byte{
	{13, 107}, {20, 190}, {40, 126}, {52, 96}, {104, 16}, {142, 250}, {151, 101},
	{172, 217}, {23, 215}, {34, 120}, {18, 160}, {54, 230}, {162, 159}, {199, 232},
}

// newSegment builds n local hosts (servers and routers included) and a pool
// of public servers, deterministically from rng.
func newSegment(rng *rand.Rand, n int) *segment {
	s := &segment{}
	used := make(map[ip4]bool, n)
	usedMAC := make(map[macAddr]bool, n)
	mkMAC := func(oui [3]byte) macAddr {
		for {
			m := macAddr{oui[0], oui[1], oui[2], byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}
			if !usedMAC[m] {
				usedMAC[m] = true
				return m
			}
		}
	}
	add := func(h host, class hostClass) int {
		used[h.ip] = true
		h.nextPort = uint16(49152 + rng.IntN(12000))
		s.hosts = append(s.hosts, h)
		i := len(s.hosts) - 1
		s.byClass[class] = append(s.byClass[class], i)
		return i
	}
	// Two gateways (HSRP pair): .1 carries most traffic.
	for i, last := range []byte{1, 254} {
		r := host{mac: mkMAC(routerOUIs[i]), ip: ip4{10, 0, 0, last}, name: fmt.Sprintf("GW-CORE-%d", i+1), ttl: 255}
		s.routers = append(s.routers, add(r, classRouter))
	}
	servers := []struct {
		role  serverRole
		name  string
		ip    ip4
		count int
	}{
		{roleDHCP, "DHCP", ip4{10, 0, 0, 5}, 1},
		{roleDNS, "DNS", ip4{10, 0, 0, 10}, 2},
		{rolePACS, "PACS", ip4{10, 0, 1, 10}, 3},
		{roleHL7, "HL7ENG", ip4{10, 0, 1, 20}, 2},
		{roleFile, "FS", ip4{10, 0, 1, 30}, 3},
		{roleWeb, "WEB", ip4{10, 0, 1, 40}, 2},
	}
	for _, sv := range servers {
		for k := 0; k < sv.count; k++ {
			v := &serverVendors[rng.IntN(len(serverVendors))]
			ip := sv.ip
			ip[3] += byte(k)
			h := host{mac: mkMAC(v.oui), ip: ip, name: fmt.Sprintf("%s%02d", sv.name, k+1), v: v, ttl: v.ttl}
			s.servers[sv.role] = append(s.servers[sv.role], add(h, classServer))
		}
	}
	total := 0
	for i := range vendors {
		total += vendors[i].weight
	}
	for len(s.hosts) < n {
		w := rng.IntN(total)
		vi := 0
		for w >= vendors[vi].weight {
			w -= vendors[vi].weight
			vi++
		}
		v := &vendors[vi]
		var ip ip4
		for {
			ip = ip4{10, 0, byte(2 + rng.IntN(254)), byte(1 + rng.IntN(254))}
			if !used[ip] {
				break
			}
		}
		gw := 0
		if rng.IntN(5) == 0 {
			gw = 1
		}
		h := host{mac: mkMAC(v.oui), ip: ip, name: fmt.Sprintf("%s-%03d-%04d", v.prefix, ip[2], len(s.hosts)), v: v, gw: gw, ttl: v.ttl}
		add(h, v.class)
	}
	for i := 0; i < 600; i++ {
		p := publicPrefixes[rng.IntN(len(publicPrefixes))]
		s.remotes = append(s.remotes, remote{
			ip:   ip4{p[0], p[1], byte(rng.IntN(256)), byte(1 + rng.IntN(254))},
			name: publicNames[rng.IntN(len(publicNames))],
			ttl:  byte(40 + rng.IntN(20)),
		})
	}
	return s
}
