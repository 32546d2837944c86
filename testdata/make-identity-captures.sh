#!/usr/bin/env bash
# make-identity-captures.sh: record small, real captures of the identity
# protocols (mDNS/DNS-SD, TLS, SNMP, LLDP, DHCPv6) made by real third-party
# tools, for the cases the shared corpus lacks. Same design as
# make-captures.sh: every device in its own network namespace on a veth port
# of a bridge in a "switch" namespace, tcpdump on the bridge like a SPAN
# port. Nothing outside these namespaces is contacted; IPv4 addresses are in
# 10.77.0.60-69, IPv6 (DHCPv6 capture only) in fd77:77::/64.
#
# Usage: sudo testdata/make-identity-captures.sh [OUTDIR]   (default: testdata/captures)
#
#   capture              namespace  role                           MAC                 IP
#   identity-tls         pacs       openssl s_server :443, :2762    00:50:56:77:00:3c   10.77.0.60
#                        viewer     openssl s_client, curl          00:1b:21:77:00:3d   10.77.0.61
#   identity-snmp        monitor    snmpd (net-snmp)                00:09:fb:77:00:3e   10.77.0.62
#                        nms        snmpget, snmpwalk               00:50:56:77:00:3f   10.77.0.63
#   identity-lldp        monitor5   lldpd                           00:09:fb:77:00:40   10.77.0.64
#                        gateway    lldpd                           00:1b:21:77:00:41   10.77.0.65
#   identity-mdns        gateway2   avahi-daemon + publish-service  00:1b:21:77:00:42   10.77.0.66
#                        nursews    avahi-daemon + avahi-browse     00:1b:21:77:00:43   10.77.0.67
#   identity-dhcpv6      dhcp6srv   dnsmasq (DHCPv6)                00:50:56:77:00:44   fd77:77::1
#                        pump45     ISC dhclient -6                 00:1b:21:77:00:45   fd77:77::145 (leased)
#
# OUIs: 00:50:56 VMware, 00:1b:21 Intel, 00:09:fb Philips Medizin Systeme.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "make-identity-captures.sh: must run as root (network namespaces, bridge, tcpdump)" >&2
	exit 1
fi

for tool in ip tcpdump openssl curl snmpd snmpget snmpwalk lldpd avahi-daemon avahi-publish-service \
	avahi-browse dbus-daemon dnsmasq dhclient unshare; do
	command -v "$tool" >/dev/null || {
		echo "make-identity-captures.sh: missing $tool (apt-get install iproute2 tcpdump openssl curl snmpd snmp lldpd avahi-daemon avahi-utils dbus-daemon dnsmasq-base isc-dhcp-client util-linux)" >&2
		exit 1
	}
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${1:-$script_dir/captures}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

prefix=iomtid
sw=$prefix-switch
declare -A mac=(
	[pacs]=00:50:56:77:00:3c [viewer]=00:1b:21:77:00:3d
	[monitor]=00:09:fb:77:00:3e [nms]=00:50:56:77:00:3f
	[monitor5]=00:09:fb:77:00:40 [gateway]=00:1b:21:77:00:41
	[gateway2]=00:1b:21:77:00:42 [nursews]=00:1b:21:77:00:43
	[dhcp6srv]=00:50:56:77:00:44 [pump45]=00:1b:21:77:00:45
)
declare -A addr=(
	[pacs]=10.77.0.60/24 [viewer]=10.77.0.61/24
	[monitor]=10.77.0.62/24 [nms]=10.77.0.63/24
	[monitor5]=10.77.0.64/24 [gateway]=10.77.0.65/24
	[gateway2]=10.77.0.66/24 [nursews]=10.77.0.67/24
	[dhcp6srv]=fd77:77::1/64
)
bridge_mac=02:77:00:00:01:fe

work=$(mktemp -d /tmp/iomt-identity.XXXXXX)
chmod 755 "$work"
pids=()
devices=()

cleanup() {
	local rc=$?
	set +e
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	pids=()
	for d in "${devices[@]}"; do
		ip netns del "$prefix-$d" 2>/dev/null
	done
	ip netns del "$sw" 2>/dev/null
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT INT TERM

ns() { # ns DEVICE CMD...: run CMD inside DEVICE's namespace
	local d=$1
	shift
	ip netns exec "$prefix-$d" "$@"
}

# start DEVICE LOGNAME CMD...: run CMD in the background inside DEVICE's
# namespace, remember its PID (for cleanup) in last_pid.
start() {
	local d=$1 log=$2
	shift 2
	ip netns exec "$prefix-$d" "$@" >"$work/$log.log" 2>&1 </dev/null &
	last_pid=$!
	pids+=("$last_pid")
}

# stop PID: end one process we started (SIGTERM) and forget it.
stop() {
	local pid=$1 p keep=()
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${pids[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local limit=$(($1 * 10)) i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "make-identity-captures.sh: timed out waiting for: $*" >&2
	return 1
}

ipv6() { # ipv6 NAMESPACE 0|1: enable (1) or disable (0) IPv6
	local off=$((1 - $2))
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=$off net.ipv6.conf.default.disable_ipv6=$off
}

# segment_up V6 DEVICE...: the switch and the given devices; V6=1 turns IPv6
# on in the devices (never on the switch, which stays silent).
segment_up() {
	local v6=$1 d i=0 a
	shift
	devices=("$@")
	for d in "$sw" "${devices[@]/#/$prefix-}"; do
		if ip netns list | grep -qw "^$d"; then
			echo "make-identity-captures.sh: namespace $d already exists; remove it first" >&2
			return 1
		fi
	done
	ip netns add "$sw"
	ipv6 "$sw" 0
	ip -n "$sw" link set lo up
	ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip -n "$sw" link set dev br0 address "$bridge_mac"
	# A Linux bridge keeps 01:80:c2:00:00:0e (LLDP) frames to the port they
	# came in on; forward them like a hub, so that tcpdump on br0 and the
	# other devices see them.
	ip -n "$sw" link set dev br0 type bridge group_fwd_mask 0x4000
	for d in "${devices[@]}"; do
		i=$((i + 1))
		ip netns add "$prefix-$d"
		ipv6 "$prefix-$d" "$v6"
		ip -n "$prefix-$d" link set lo up
		ip -n "$sw" link add "p-$d" type veth peer name eth0 netns "$prefix-$d"
		ip -n "$sw" link set dev "p-$d" address "02:77:00:00:01:0$i"
		ip -n "$sw" link set dev "p-$d" master br0
		ip -n "$sw" link set dev "p-$d" up
		ip -n "$prefix-$d" link set dev eth0 address "${mac[$d]}"
		a=${addr[$d]:-}
		if [[ $a == *:* ]]; then
			ip -n "$prefix-$d" addr add "$a" dev eth0 nodad
		elif [[ -n $a ]]; then
			ip -n "$prefix-$d" addr add "$a" dev eth0
		fi
		ip -n "$prefix-$d" link set dev eth0 up
	done
	ip -n "$sw" link set dev br0 up
	sleep 1
}

segment_down() {
	local pid d
	for pid in "${pids[@]}"; do
		stop "$pid"
	done
	for d in "${devices[@]}"; do
		ip netns del "$prefix-$d"
	done
	devices=()
	ip netns del "$sw"
	rm -rf "${work:?}"/run
}

# capture_start FILE: tcpdump on the bridge, whole packets, unbuffered,
# immediate mode, classic pcap, no privilege drop.
capture_start() {
	tcpdump_log=$work/tcpdump-$(basename "$1").log
	ip netns exec "$sw" tcpdump -i br0 -s 0 -U --immediate-mode -n -Z root -w "$1" >"$tcpdump_log" 2>&1 &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	wait_for 10 grep -qs "listening on br0" "$tcpdump_log"
	sleep 0.5
}

# capture_stop: give the last packets time to arrive, stop tcpdump and fail
# if it wrote fewer packets than its filter received.
capture_stop() {
	local got seen
	sleep 1
	stop "$tcpdump_pid"
	cat "$tcpdump_log" >&2
	got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$tcpdump_log")
	seen=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$tcpdump_log")
	if [[ -z $got || $got != "$seen" ]]; then
		echo "make-identity-captures.sh: tcpdump wrote ${got:-?} of ${seen:-?} packets" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------
# TLS: a PACS answering HTTPS (443, s_server -www) and DICOM TLS (2762,
# s_server -rev) with a certificate signed by a local CA; a viewer connects
# with openssl s_client (TLS 1.2, whose certificates travel in clear, and
# TLS 1.3) and curl.
scenario_tls() {
	local run=$work/run
	mkdir -p "$run"
	local subj="/C=US/O=St Elsewhere Hospital"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$run/ca.key" -out "$run/ca.pem" -days 3650 -set_serial 0x770001 \
		-subj "$subj/CN=ICU Test Root CA" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$run/pacs.key" -out "$run/pacs.csr" \
		-subj "$subj/OU=Radiology/CN=pacs.icu.hospital.test" 2>/dev/null
	printf 'subjectAltName=DNS:pacs.icu.hospital.test,IP:10.77.0.60\nextendedKeyUsage=serverAuth\n' >"$run/ext"
	openssl x509 -req -in "$run/pacs.csr" -CA "$run/ca.pem" -CAkey "$run/ca.key" \
		-set_serial 0x77003c -days 825 -extfile "$run/ext" -out "$run/pacs.pem" 2>/dev/null
	openssl x509 -in "$run/pacs.pem" -noout -subject -issuer -dates -serial >&2

	local tls=(-cert "$run/pacs.pem" -key "$run/pacs.key" -cert_chain "$run/ca.pem")
	start pacs s_server-443 openssl s_server -accept 10.77.0.60:443 "${tls[@]}" -www
	local https_pid=$last_pid
	start pacs s_server-2762 openssl s_server -accept 10.77.0.60:2762 "${tls[@]}" -rev
	local dicom_pid=$last_pid
	wait_for 10 grep -qs ACCEPT "$work/s_server-443.log"
	wait_for 10 grep -qs ACCEPT "$work/s_server-2762.log"
	sleep 0.5

	local port v
	for port in 443 2762; do
		for v in -tls1_2 -tls1_3; do
			ns viewer openssl s_client -connect "10.77.0.60:$port" -servername pacs.icu.hospital.test \
				"$v" -CAfile "$run/ca.pem" </dev/null >"$work/s_client-$port$v.log" 2>&1
			grep -E "^(Verify return code|    Protocol)" "$work/s_client-$port$v.log" >&2 || true
			sleep 0.5
		done
	done
	ns viewer curl -sS -k -o /dev/null --resolve pacs.icu.hospital.test:443:10.77.0.60 \
		https://pacs.icu.hospital.test/
	sleep 0.5
	stop "$https_pid"
	stop "$dicom_pid"
}

# ---------------------------------------------------------------------------
# SNMP: net-snmp's snmpd on a patient monitor with its system group set;
# the NMS asks with snmpget v1 and v2c, walks the system group (v2c) and
# reads sysName with v3 authPriv (discovery report shows the engine id).
snmp_community=icu-r3ad-0nly
snmp_user=icu-nms-ro
scenario_snmp() {
	local run=$work/run
	mkdir -p "$run/agent" "$run/nms"
	cat >"$run/snmpd.conf" <<-EOF
		agentAddress udp:10.77.0.62:161
		engineID ICU-MONITOR-8
		sysDescr Philips IntelliVue MX800 Rev M.00.03 (iomt-testdata)
		sysName ICU-MONITOR-8
		sysContact Biomed Engineering <biomed@icu.hospital.test>
		sysLocation ICU East, Bed 8
		sysServices 72
		rocommunity $snmp_community 10.77.0.0/24
		createUser $snmp_user SHA "auth-pass-8812" AES "priv-pass-8812"
		rouser $snmp_user priv
	EOF
	start monitor snmpd env SNMP_PERSISTENT_DIR="$run/agent" MIBS= \
		snmpd -f -Lo -C -c "$run/snmpd.conf" -p "$run/snmpd.pid"
	local snmpd_pid=$last_pid
	wait_for 10 grep -qs "NET-SNMP version" "$work/snmpd.log"
	sleep 0.5

	local sys=1.3.6.1.2.1.1
	local cli=(env SNMP_PERSISTENT_DIR="$run/nms" MIBS= SNMPCONFPATH="$run/nms")
	ns nms "${cli[@]}" snmpget -On -v1 -c "$snmp_community" 10.77.0.62 $sys.1.0 $sys.5.0 >&2
	sleep 0.3
	ns nms "${cli[@]}" snmpget -On -v2c -c "$snmp_community" 10.77.0.62 $sys.5.0 $sys.4.0 $sys.6.0 >&2
	sleep 0.3
	ns nms "${cli[@]}" snmpwalk -On -v2c -c "$snmp_community" 10.77.0.62 $sys >&2
	sleep 0.3
	ns nms "${cli[@]}" snmpget -On -v3 -l authPriv -u "$snmp_user" -a SHA -A auth-pass-8812 \
		-x AES -X priv-pass-8812 10.77.0.62 $sys.5.0 $sys.1.0 >&2
	sleep 0.3
	stop "$snmpd_pid"
}

# ---------------------------------------------------------------------------
# LLDP: lldpd on a monitor and on a gateway, each in its own UTS namespace
# with its own host name, transmitting every second; stopping them sends a
# shutdown LLDPDU (TTL 0).
scenario_lldp() {
	local run=$work/run d name descr ip
	mkdir -p "$run"
	local lldp_pids=()
	for d in monitor5 gateway; do
		case $d in
		monitor5) name=icu-monitor-5 descr="Philips IntelliVue MX750 (iomt-testdata)" ip=10.77.0.64 ;;
		gateway) name=alaris-gw-01 descr="BD Alaris Gateway 1.7 (iomt-testdata)" ip=10.77.0.65 ;;
		esac
		printf 'configure lldp tx-interval 1\n' >"$run/lldpd-$d.conf"
		start "$d" "lldpd-$d" unshare -u sh -c 'hostname "$1"; shift; exec "$@"' sh "$name" \
			lldpd -d -I eth0 -m "$ip" -S "$descr" -u "$run/lldpd-$d.socket" -O "$run/lldpd-$d.conf"
		lldp_pids+=("$last_pid")
	done
	sleep 9
	for d in "${lldp_pids[@]}"; do
		stop "$d"
	done
	cat "$work"/lldpd-*.log >&2
}

# ---------------------------------------------------------------------------
# mDNS / DNS-SD: avahi-daemon in two namespaces, each with a private D-Bus
# system bus; the gateway publishes an IPP service with printer-style TXT
# model keys and a _device-info record; the nurse workstation browses and
# resolves _ipp._tcp.
avahi_up() { # avahi_up DEVICE HOSTNAME
	local d=$1 host=$2 run=$work/run
	mkdir -p "$run/$d"
	cat >"$run/$d/dbus.conf" <<-EOF
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>system</type>
		  <listen>unix:path=$run/$d/bus</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default">
		    <allow user="*"/>
		    <allow own="*"/>
		    <allow send_destination="*"/>
		    <allow receive_sender="*"/>
		  </policy>
		</busconfig>
	EOF
	cat >"$run/$d/avahi-daemon.conf" <<-EOF
		[server]
		host-name=$host
		domain-name=local
		use-ipv4=yes
		use-ipv6=no
		allow-interfaces=eth0
		enable-dbus=yes
		[wide-area]
		enable-wide-area=no
		[publish]
		publish-hinfo=no
		publish-workstation=no
	EOF
	start "$d" "dbus-$d" dbus-daemon --config-file="$run/$d/dbus.conf" --nofork --nopidfile
	wait_for 10 test -S "$run/$d/bus"
	# Each daemon gets its own /run/avahi-daemon and an empty services
	# folder (ip netns exec runs each command in a private mount namespace).
	mkdir -p /run/avahi-daemon
	start "$d" "avahi-$d" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$run/$d/bus" sh -c '
		mount -t tmpfs tmpfs /run/avahi-daemon && mount -t tmpfs tmpfs /etc/avahi/services &&
		exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$1"' sh "$run/$d/avahi-daemon.conf"
	wait_for 20 grep -qs "Server startup complete" "$work/avahi-$d.log"
}

scenario_mdns() {
	local run=$work/run
	avahi_up gateway2 alaris-gw-02
	avahi_up nursews nurse-ws-07
	sleep 1
	local gw_bus="unix:path=$run/gateway2/bus" ws_bus="unix:path=$run/nursews/bus"
	start gateway2 publish-ipp env DBUS_SYSTEM_BUS_ADDRESS="$gw_bus" \
		avahi-publish-service -s "Infusion Gateway" _ipp._tcp 631 \
		"txtvers=1" "ty=BD Alaris Gateway" "usb_MFG=BD" "usb_MDL=Alaris8015" "product=(Alaris 8015 PC Unit)" \
		"note=ICU East" "rp=ipp/print"
	local ipp_pid=$last_pid
	start gateway2 publish-info env DBUS_SYSTEM_BUS_ADDRESS="$gw_bus" \
		avahi-publish-service -s "alaris-gw-02" _device-info._tcp 0 "model=Alaris8015"
	local info_pid=$last_pid
	wait_for 20 grep -qs "Established" "$work/publish-ipp.log"
	wait_for 20 grep -qs "Established" "$work/publish-info.log"
	sleep 1
	ns nursews env DBUS_SYSTEM_BUS_ADDRESS="$ws_bus" avahi-browse -r -t -p _ipp._tcp >&2
	sleep 1
	stop "$ipp_pid"
	stop "$info_pid"
	sleep 0.5
	cat "$work"/avahi-*.log "$work"/publish-*.log >&2
}

# ---------------------------------------------------------------------------
# DHCPv6: dnsmasq serves fd77:77::/64 (stateful, no RA, no DNS); ISC
# dhclient -6 with a DUID-LL sends an FQDN (option 39) and a vendor class
# (option 16, enterprise 32473, the documentation number of RFC 5612).
scenario_dhcpv6() {
	local run=$work/run
	mkdir -p "$run"
	start dhcp6srv dnsmasq dnsmasq --no-daemon --conf-file=/dev/null \
		--port=0 --user=root --group=root \
		--interface=eth0 --bind-interfaces \
		--dhcp-authoritative \
		--dhcp-range=fd77:77::100,fd77:77::1ff,64,1h \
		--dhcp-host="id:00:03:00:01:${mac[pump45]},[fd77:77::145],infusion-45" \
		--domain=icu.hospital.test \
		--dhcp-leasefile="$run/dnsmasq.leases" \
		--pid-file="$run/dnsmasq.pid" \
		--log-dhcp
	local dnsmasq_pid=$last_pid
	wait_for 10 grep -q "DHCPv6, IP range" "$work/dnsmasq.log"

	cat >"$run/dhclient6.conf" <<-'EOF'
		option dhcp6.iomt-vendor-class code 16 = { integer 32, integer 16, string };
		send fqdn.fqdn "infusion-45.icu.hospital.test.";
		send fqdn.server-update on;
		send dhcp6.iomt-vendor-class 32473 13 "BD-Alaris-PCU";
		timeout 20;
	EOF
	cat >"$run/dhclient-script" <<-'EOF'
		#!/bin/sh
		case "$reason" in
		BOUND6|RENEW6|REBIND6|REBOOT6)
			echo "$new_ip6_address" >"$(dirname "$0")/dhclient6.bound"
			;;
		esac
		exit 0
	EOF
	chmod +x "$run/dhclient-script"
	# Wait for the link-local address to leave DAD so dhclient can bind.
	wait_for 10 sh -c "ip -n $prefix-pump45 -6 addr show dev eth0 scope link | grep -q fe80 &&
		! ip -n $prefix-pump45 -6 addr show dev eth0 | grep -q tentative"
	start pump45 dhclient dhclient -6 -d -1 -v -D LL \
		-cf "$run/dhclient6.conf" -lf "$run/dhclient6.leases" \
		-pf "$run/dhclient6.pid" -sf "$run/dhclient-script" eth0
	local dhclient_pid=$last_pid
	wait_for 30 test -s "$run/dhclient6.bound"
	sleep 0.5
	stop "$dhclient_pid"
	stop "$dnsmasq_pid"
	cat "$work/dnsmasq.log" "$work/dhclient.log" >&2
}

umask 022

run_capture() { # run_capture NAME V6 SCENARIO DEVICE...
	local name=$1 v6=$2 scenario=$3
	shift 3
	segment_up "$v6" "$@"
	capture_start "$out_dir/$name.pcap"
	"$scenario"
	capture_stop
	segment_down
}

only=${IOMT_ONLY:-tls snmp lldp mdns dhcpv6}
for c in $only; do
	case $c in
	tls) run_capture identity-tls 0 scenario_tls pacs viewer ;;
	snmp) run_capture identity-snmp 0 scenario_snmp monitor nms ;;
	lldp) run_capture identity-lldp 0 scenario_lldp monitor5 gateway ;;
	mdns) run_capture identity-mdns 0 scenario_mdns gateway2 nursews ;;
	dhcpv6) run_capture identity-dhcpv6 1 scenario_dhcpv6 dhcp6srv pump45 ;;
	esac
done

ls -l "$out_dir"/identity-*.pcap >&2
