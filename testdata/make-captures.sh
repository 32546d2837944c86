#!/usr/bin/env bash
# make-captures.sh: record small, real packet captures made by real
# third-party tools on a tiny hospital-like L2 segment built out of Linux
# network namespaces. Nothing outside the namespaces created here is ever
# contacted: every address lives in 10.77.0.0/24 on a private bridge.
#
# Usage: sudo testdata/make-captures.sh [OUTDIR]   (default: testdata/captures)
#
# Segment ("switch" namespace with bridge br0, tcpdump on br0 like a SPAN port):
#
#   namespace   role                     MAC                 IP            identity sent
#   dhcpsrv     dnsmasq DHCP server      00:50:56:77:00:01   10.77.0.1     -
#   pump        dhclient (ISC)           00:1b:21:77:00:07   10.77.0.107   host-name INFUSION-07,
#                                                                          vendor class BD-Alaris-PCU
#   monitor     busybox udhcpc           00:09:fb:77:00:03   10.77.0.103   hostname ICU-MONITOR-3,
#                                                                          vendor class Philips-IntelliVue
#   websrv      python3 -m http.server   00:50:56:77:00:0a   10.77.0.10    Server: SimpleHTTP/0.6 Python/3.x
#   station     curl                     00:1b:21:77:00:14   10.77.0.20    User-Agent BD-Alaris-Gateway/1.7
#                                                                          (iomt-testdata), then curl's default
#
# OUIs: 00:50:56 VMware (server VMs), 00:1b:21 Intel (embedded NICs/Wi-Fi
# modules in pumps and workstations), 00:09:fb Philips Medizin Systeme
# (IntelliVue monitors). The DHCP clients' addresses are pinned by dhcp-host
# lines so every run hands out the same leases. IPv6 is disabled in every
# namespace so that no router/neighbour solicitations add noise.
#
# Outputs (all in OUTDIR):
#   dhcp-dnsmasq.pcap   DHCP only (dnsmasq + dhclient + udhcpc)
#   http-curl.pcap      HTTP only (python3 http.server + curl)
#   clinic.pcap         both scenarios in one recording on one segment
#   clinic.pcapng       clinic.pcap converted with editcap -F pcapng
#   clinic.pcapng.gz    clinic.pcapng compressed with gzip -9n
#   truncated.pcap      clinic.pcap cut in the middle of its 10th packet
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "make-captures.sh: must run as root (network namespaces, bridge, tcpdump)" >&2
	exit 1
fi

for tool in ip tcpdump dnsmasq dhclient busybox curl python3 editcap gzip; do
	command -v "$tool" >/dev/null || {
		echo "make-captures.sh: missing $tool (apt-get install iproute2 tcpdump dnsmasq-base isc-dhcp-client busybox curl python3 wireshark-common gzip)" >&2
		exit 1
	}
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${1:-$script_dir/captures}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# The Debian interpreter, not whatever python3 comes first in PATH.
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3)

prefix=iomtcap
sw=$prefix-switch
devices=(dhcpsrv pump monitor websrv station)
declare -A mac=(
	[dhcpsrv]=00:50:56:77:00:01
	[pump]=00:1b:21:77:00:07
	[monitor]=00:09:fb:77:00:03
	[websrv]=00:50:56:77:00:0a
	[station]=00:1b:21:77:00:14
)
# Static addresses; the DHCP clients start without one.
declare -A addr=(
	[dhcpsrv]=10.77.0.1
	[websrv]=10.77.0.10
	[station]=10.77.0.20
)
# Switch-side ports and the bridge get fixed locally administered MACs too,
# although with IPv6 off they never send a frame of their own.
bridge_mac=02:77:00:00:00:fe

work=$(mktemp -d /tmp/iomt-captures.XXXXXX)
pids=()

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
	ip netns exec "$prefix-$d" "$@" >"$work/$log.log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}

# stop PID: end one process we started and forget it.
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
	echo "make-captures.sh: timed out waiting for: $*" >&2
	return 1
}

no_ipv6() { # no_ipv6 NAMESPACE
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

segment_up() {
	local d i=0
	for d in "$sw" "${devices[@]/#/$prefix-}"; do
		if ip netns list | grep -qw "^$d"; then
			echo "make-captures.sh: namespace $d already exists; remove it first" >&2
			return 1
		fi
	done
	ip netns add "$sw"
	no_ipv6 "$sw"
	ip -n "$sw" link set lo up
	ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip -n "$sw" link set dev br0 address "$bridge_mac"
	for d in "${devices[@]}"; do
		i=$((i + 1))
		ip netns add "$prefix-$d"
		no_ipv6 "$prefix-$d"
		ip -n "$prefix-$d" link set lo up
		ip -n "$sw" link add "p-$d" type veth peer name eth0 netns "$prefix-$d"
		ip -n "$sw" link set dev "p-$d" address "02:77:00:00:00:0$i"
		ip -n "$sw" link set dev "p-$d" master br0
		ip -n "$sw" link set dev "p-$d" up
		ip -n "$prefix-$d" link set dev eth0 address "${mac[$d]}"
		if [[ -n ${addr[$d]:-} ]]; then
			ip -n "$prefix-$d" addr add "${addr[$d]}/24" dev eth0
		fi
		ip -n "$prefix-$d" link set dev eth0 up
	done
	ip -n "$sw" link set dev br0 up
	# Let the links settle before anything is recorded.
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
	ip netns del "$sw"
	rm -rf "${work:?}"/run
}

# capture_start FILE: tcpdump on the bridge, whole packets (-s 0), written
# unbuffered (-U) as classic pcap, no privilege drop (-Z root) so that it can
# write into a root-owned directory.
capture_start() {
	tcpdump_log=$work/tcpdump-$(basename "$1").log
	ip netns exec "$sw" tcpdump -i br0 -s 0 -U -n -Z root -w "$1" >"$tcpdump_log" 2>&1 &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	wait_for 10 grep -q "listening on br0" "$tcpdump_log"
	sleep 0.5
}

capture_stop() {
	sleep 0.5
	stop "$tcpdump_pid"
	cat "$tcpdump_log" >&2
}

# scenario_dhcp: dnsmasq serves DHCP (no DNS: --port=0); the pump's ISC
# dhclient and then the monitor's busybox udhcpc each complete a DORA.
scenario_dhcp() {
	local run=$work/run
	mkdir -p "$run"

	start dhcpsrv dnsmasq dnsmasq --no-daemon --conf-file=/dev/null \
		--port=0 --user=root --group=root \
		--interface=eth0 --bind-interfaces \
		--dhcp-authoritative \
		--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h \
		--dhcp-host="${mac[pump]},10.77.0.107" \
		--dhcp-host="${mac[monitor]},10.77.0.103" \
		--domain=icu.hospital.test \
		--dhcp-leasefile="$run/dnsmasq.leases" \
		--pid-file="$run/dnsmasq.pid" \
		--log-dhcp
	local dnsmasq_pid=$last_pid
	wait_for 10 grep -q "DHCP, IP range" "$work/dnsmasq.log"

	# ISC dhclient with its own config, lease, pid file and a minimal
	# script (the stock dhclient-script would rewrite the host's
	# /etc/resolv.conf).
	cat >"$run/dhclient.conf" <<-'EOF'
		send host-name "INFUSION-07";
		send vendor-class-identifier "BD-Alaris-PCU";
		request subnet-mask, broadcast-address, time-offset, routers,
			domain-name, domain-name-servers, host-name, ntp-servers;
		timeout 20;
	EOF
	cat >"$run/dhclient-script" <<-'EOF'
		#!/bin/sh
		case "$reason" in
		BOUND|RENEW|REBIND|REBOOT)
			ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" 2>/dev/null || true
			echo "$new_ip_address" >"$(dirname "$0")/dhclient.bound"
			;;
		esac
		exit 0
	EOF
	chmod +x "$run/dhclient-script"
	start pump dhclient dhclient -4 -d -1 -v \
		-cf "$run/dhclient.conf" -lf "$run/dhclient.leases" \
		-pf "$run/dhclient.pid" -sf "$run/dhclient-script" eth0
	local dhclient_pid=$last_pid
	wait_for 30 test -s "$run/dhclient.bound"
	sleep 0.5

	# busybox udhcpc: hostname (option 12) and vendor class (option 60);
	# -a200 makes it ARP-probe the offered address before taking it.
	cat >"$run/udhcpc-script" <<-'EOF'
		#!/bin/sh
		case "$1" in
		bound|renew)
			ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null || true
			echo "$ip" >"$(dirname "$0")/udhcpc.bound"
			;;
		esac
		exit 0
	EOF
	chmod +x "$run/udhcpc-script"
	ns monitor busybox udhcpc -f -q -n -a200 -t 5 -T 2 -i eth0 \
		-s "$run/udhcpc-script" -p "$run/udhcpc.pid" \
		-x hostname:ICU-MONITOR-3 -V Philips-IntelliVue \
		>"$work/udhcpc.log" 2>&1
	test -s "$run/udhcpc.bound"
	sleep 0.5

	# Each client checks its server is there: a natural ARP exchange.
	ns pump busybox ping -c 1 -W 1 10.77.0.1 >/dev/null
	ns monitor busybox ping -c 1 -W 1 10.77.0.1 >/dev/null
	sleep 0.5

	stop "$dhclient_pid"
	stop "$dnsmasq_pid"
	cat "$work/dnsmasq.log" "$work/dhclient.log" "$work/udhcpc.log" >&2
}

# scenario_http: python3 http.server on websrv:80 serving one small page;
# the station fetches it twice with curl, each on its own TCP connection
# (handshake, request, response, FIN).
scenario_http() {
	local run=$work/run www
	mkdir -p "$run"
	www=$run/www
	mkdir -p "$www"
	cat >"$www/index.html" <<-'EOF'
		<!DOCTYPE html>
		<html><head><title>Infusion gateway</title></head>
		<body><p>Alaris Gateway test page (iomt-sensor testdata).</p></body></html>
	EOF
	touch -d 2026-01-01T00:00:00Z "$www/index.html"

	start websrv http.server "$py" -m http.server 80 --bind 10.77.0.10 --directory "$www"
	local http_pid=$last_pid
	wait_for 10 ns websrv "$py" -c 'import socket; socket.create_connection(("10.77.0.10", 80), 1).close()' 2>/dev/null
	# That probe connected over the websrv's own loopback path, so nothing
	# reached the wire; settle before the real requests.
	sleep 0.5

	ns station curl -sS -o /dev/null -A "BD-Alaris-Gateway/1.7 (iomt-testdata)" http://10.77.0.10/index.html
	sleep 0.5
	ns station curl -sS -o /dev/null http://10.77.0.10/
	sleep 0.5

	stop "$http_pid"
}

# truncate_mid_packet IN OUT N: copy IN up to the middle of its Nth packet
# (classic pcap: 24-byte file header, then 16-byte record headers whose
# third field is the captured length).
truncate_mid_packet() {
	local cut
	cut=$("$py" - "$1" "$3" <<-'EOF'
		import struct, sys
		data = open(sys.argv[1], "rb").read()
		n = int(sys.argv[2])
		order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
		off = 24
		for _ in range(n - 1):
		    caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
		    off += 16 + caplen
		caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
		print(off + 16 + caplen // 2)
	EOF
	)
	head -c "$cut" "$1" >"$2"
	echo "truncated.pcap: first $cut bytes of clinic.pcap (middle of packet $3)" >&2
}

umask 022

segment_up
capture_start "$out_dir/dhcp-dnsmasq.pcap"
scenario_dhcp
capture_stop
segment_down

segment_up
capture_start "$out_dir/http-curl.pcap"
scenario_http
capture_stop
segment_down

segment_up
capture_start "$out_dir/clinic.pcap"
scenario_dhcp
scenario_http
capture_stop
segment_down

editcap -F pcapng "$out_dir/clinic.pcap" "$out_dir/clinic.pcapng"
gzip -9n -c "$out_dir/clinic.pcapng" >"$out_dir/clinic.pcapng.gz"
truncate_mid_packet "$out_dir/clinic.pcap" "$out_dir/truncated.pcap" 10

ls -l "$out_dir" >&2
