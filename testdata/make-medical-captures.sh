#!/usr/bin/env bash
# make-medical-captures.sh: record small, real DICOM and HL7 v2 (MLLP)
# captures made by real third-party tools (dcmtk, python3-hl7) on a private L2
# segment built out of Linux network namespaces, in the style of
# make-captures.sh. Nothing outside the namespaces created here is contacted:
# every address lives in 10.77.0.0/24 on a private bridge.
#
# Usage: sudo testdata/make-medical-captures.sh [OUTDIR]   (default: testdata/captures)
#
# Segment ("switch" namespace with bridge br0, tcpdump on br0 like a SPAN port):
#
#   namespace  role                                  MAC                IP          AE title / HL7 app
#   pacs       storescp :104, dcmqrscp :11112        00:50:56:77:00:28  10.77.0.40  PACS_MAIN, PACS_QR
#   ct         CT console: storescu/echoscu/findscu  44:4b:5d:77:00:29  10.77.0.41  CT_ROOM2
#   mr         MR console: storescu                  00:18:65:77:00:2a  10.77.0.42  MR_ROOM1
#   us         ultrasound cart: storescu             00:0f:14:77:00:2b  10.77.0.43  US_CART4
#   hl7eng     mllp_listener.py :2575                00:50:56:77:00:32  10.77.0.50  HL7_ENGINE/ST_ELSEWHERE
#   monitor    mllp_send (ORU^R01, IHE PCD-01)       00:09:5c:77:00:33  10.77.0.51  IntelliVue MX800/ICU_EAST
#   adt        mllp_send (ADT^A01, ADT^A08)          00:50:56:77:00:34  10.77.0.52  HIS_ADT/ST_ELSEWHERE
#
# OUIs (Wireshark manuf): 00:50:56 VMware (server VMs), 44:4b:5d GE Healthcare,
# 00:18:65 Siemens Healthcare Diagnostics, 00:0f:14 Mindray, 00:09:5c Philips
# Medical Systems (Cardiac and Monitoring Systems). IPv6 is off everywhere.
#
# The DICOM objects are made here with dump2dcm from text dumps (tiny 32x32
# images) and carry device identity (Manufacturer, model, serial, software
# versions, station, institution, department, modality) and planted PHI
# (see testdata/README.md). The HL7 messages are testdata/medical/*.hl7.
#
# Outputs (all in OUTDIR):
#   dicom-store.pcap   C-ECHO and C-STORE: CT_ROOM2 and MR_ROOM1 -> PACS_MAIN
#   dicom-find.pcap    C-FIND CT_ROOM2 -> PACS_QR (one match), and CT_ROOM2 ->
#                      PACS_MAIN (accepted with no presentation context;
#                      findscu then closes the TCP connection)
#   dicom-reject.pcap  three A-ASSOCIATE-RJ (dcmqrscp: unknown peer US_CART4,
#                      wrong called AE "PACS"; storescp --refuse), then an
#                      A-ABORT from storescp --abort-after during a C-STORE
#   hl7-mllp.pcap      ORU^R01 x3 (one answered AE) and ADT^A01/A08 -> listener
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "make-medical-captures.sh: must run as root (network namespaces, bridge, tcpdump)" >&2
	exit 1
fi

for tool in ip ss ethtool tcpdump storescp storescu echoscu findscu dcmqrscp dcmqridx dump2dcm dcmdump mllp_send python3; do
	command -v "$tool" >/dev/null || {
		echo "make-medical-captures.sh: missing $tool (apt-get install iproute2 ethtool tcpdump dcmtk python3-hl7 python3)" >&2
		exit 1
	}
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
med_dir=$script_dir/medical
out_dir=${1:-$script_dir/captures}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# The Debian interpreter, not whatever python3 comes first in PATH.
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3)

prefix=iomtmed
sw=$prefix-switch
devices=(pacs ct mr us hl7eng monitor adt)
declare -A mac=(
	[pacs]=00:50:56:77:00:28
	[ct]=44:4b:5d:77:00:29
	[mr]=00:18:65:77:00:2a
	[us]=00:0f:14:77:00:2b
	[hl7eng]=00:50:56:77:00:32
	[monitor]=00:09:5c:77:00:33
	[adt]=00:50:56:77:00:34
)
declare -A addr=(
	[pacs]=10.77.0.40
	[ct]=10.77.0.41
	[mr]=10.77.0.42
	[us]=10.77.0.43
	[hl7eng]=10.77.0.50
	[monitor]=10.77.0.51
	[adt]=10.77.0.52
)
bridge_mac=02:77:00:00:01:fe

work=$(mktemp -d /tmp/iomt-medcaptures.XXXXXX)
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
	echo "make-medical-captures.sh: timed out waiting for: $*" >&2
	return 1
}

# listening DEVICE PORT: true once a TCP socket listens on PORT in DEVICE
# (asked of the kernel, so that nothing is sent on the wire).
listening() {
	ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
}

no_ipv6() { # no_ipv6 NAMESPACE
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

segment_up() {
	local d i=0
	for d in "$sw" "${devices[@]/#/$prefix-}"; do
		if ip netns list | grep -qw "^$d"; then
			echo "make-medical-captures.sh: namespace $d already exists; remove it first" >&2
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
		ip -n "$sw" link set dev "p-$d" address "02:77:00:00:01:0$i"
		ip -n "$sw" link set dev "p-$d" master br0
		ip -n "$sw" link set dev "p-$d" up
		ip -n "$prefix-$d" link set dev eth0 address "${mac[$d]}"
		ip -n "$prefix-$d" addr add "${addr[$d]}/24" dev eth0
		ip -n "$prefix-$d" link set dev eth0 up
		# No segmentation or receive offloads: tcpdump must see frames of
		# at most 1514 bytes, as a SPAN port on a real switch would.
		ip netns exec "$sw" ethtool -K "p-$d" tso off gso off gro off >/dev/null
		ns "$d" ethtool -K eth0 tso off gso off gro off >/dev/null
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
# unbuffered (-U) as classic pcap, no privilege drop (-Z root). Immediate
# mode, so that no packet waits in the kernel's ring buffer when tcpdump is
# stopped (capture_stop checks that none was lost).
capture_start() {
	tcpdump_log=$work/tcpdump-$(basename "$1").log
	ip netns exec "$sw" tcpdump -i br0 -s 0 -U --immediate-mode -n -Z root -w "$1" >"$tcpdump_log" 2>&1 &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	wait_for 10 grep -qs "listening on br0" "$tcpdump_log"
	sleep 0.5
}

capture_stop() {
	local got seen
	sleep 1
	stop "$tcpdump_pid"
	cat "$tcpdump_log" >&2
	got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$tcpdump_log")
	seen=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$tcpdump_log")
	if [[ -z $got || $got != "$seen" ]]; then
		echo "make-medical-captures.sh: tcpdump wrote ${got:-?} of ${seen:-?} packets" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------
# DICOM objects

# pixels FILE BYTES: a deterministic gradient as raw pixel data.
pixels() {
	"$py" -c 'import sys; n = int(sys.argv[2]); open(sys.argv[1], "wb").write(bytes((i * 7 + i // 32) & 0xff for i in range(n)))' "$1" "$2"
}

# dicom_object OUT XFER SOPCLASS INSTANCE SERIES NUMBER DEVICE-DUMP
# Makes one DICOM file with dump2dcm (XFER is +te or +ti). Every object has
# the same study and the same planted PHI; DEVICE-DUMP holds the device and
# image attributes.
study_uid=2.25.197001017788995544000000000000001
dicom_object() {
	local out=$1 xfer=$2 sop=$3 inst=$4 series=$5 num=$6 device=$7
	{
		cat <<-EOF
			(0008,0005) CS [ISO_IR 100]
			(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]
			(0008,0016) UI $sop
			(0008,0018) UI [$inst]
			(0008,0020) DA [20260101]
			(0008,0030) TM [120000]
			(0008,0050) SH [ACC-5544]
			(0008,0090) PN [SMITH^JOHN]
			(0010,0010) PN [DOE^JANE]
			(0010,0020) LO [PID-778899]
			(0010,0030) DA [19700101]
			(0010,0040) CS [F]
			(0020,000d) UI [$study_uid]
			(0020,000e) UI [$series]
			(0020,0010) SH [S5544]
			(0020,0011) IS [1]
			(0020,0013) IS [$num]
		EOF
		cat "$device"
	} >"$out.dump"
	dump2dcm -q "$xfer" "$out.dump" "$out"
}

make_dicom() {
	local dir=$work/dicom i
	mkdir -p "$dir"
	pixels "$dir/px16.raw" 2048
	pixels "$dir/px8.raw" 1024
	cd "$dir"

	cat >ct.dump <<-'EOF'
		(0008,0060) CS [CT]
		(0008,0070) LO [GE MEDICAL SYSTEMS]
		(0008,0080) LO [ST ELSEWHERE HOSPITAL]
		(0008,1010) SH [CT_ROOM2]
		(0008,1040) LO [RADIOLOGY]
		(0008,1090) LO [Revolution Apex 128]
		(0018,1000) LO [CT7712GE0042]
		(0018,1020) LO [revo_apex_24.1\gmp_os_7.2]
		(0018,0050) DS [2.5]
		(0018,0060) DS [120]
		(0028,0002) US 1
		(0028,0004) CS [MONOCHROME2]
		(0028,0010) US 32
		(0028,0011) US 32
		(0028,0100) US 16
		(0028,0101) US 12
		(0028,0102) US 11
		(0028,0103) US 0
		(0028,1052) DS [-1024]
		(0028,1053) DS [1]
		(7fe0,0010) OW =px16.raw
	EOF
	# Secondary capture of the dose report, as CT scanners send one with
	# every exam (another SOP class, so another presentation context).
	sed -e 's/^\(.0008,0060. CS\) \[CT\]/\1 [OT]/' \
		-e '/(0018,0050)/d' -e '/(0018,0060)/d' -e '/(0028,1052)/d' -e '/(0028,1053)/d' \
		-e 's/US 16$/US 8/' -e 's/US 12$/US 8/' -e 's/US 11$/US 7/' \
		-e 's/OW =px16.raw/OB =px8.raw/' ct.dump >ct-dose.dump
	echo '(0008,0064) CS [WSD]' >>ct-dose.dump
	cat >mr.dump <<-'EOF'
		(0008,0060) CS [MR]
		(0008,0070) LO [SIEMENS]
		(0008,0080) LO [ST ELSEWHERE HOSPITAL]
		(0008,1010) SH [MRC41877]
		(0008,1040) LO [NEURORADIOLOGY]
		(0008,1090) LO [MAGNETOM Vida Fit]
		(0018,1000) LO [41877]
		(0018,1020) LO [syngo MR XA51]
		(0018,0087) DS [3]
		(0028,0002) US 1
		(0028,0004) CS [MONOCHROME2]
		(0028,0010) US 32
		(0028,0011) US 32
		(0028,0100) US 16
		(0028,0101) US 12
		(0028,0102) US 11
		(0028,0103) US 0
		(7fe0,0010) OW =px16.raw
	EOF
	cat >us.dump <<-'EOF'
		(0008,0060) CS [US]
		(0008,0070) LO [Mindray]
		(0008,0080) LO [ST ELSEWHERE HOSPITAL]
		(0008,1010) SH [US_CART4]
		(0008,1040) LO [EMERGENCY]
		(0008,1090) LO [Resona R9]
		(0018,1000) LO [RS9-2210-0457]
		(0018,1020) LO [01.10.00]
		(0028,0002) US 1
		(0028,0004) CS [MONOCHROME2]
		(0028,0010) US 32
		(0028,0011) US 32
		(0028,0100) US 8
		(0028,0101) US 8
		(0028,0102) US 7
		(0028,0103) US 0
		(7fe0,0010) OB =px8.raw
	EOF

	local ct_series=$study_uid.1 mr_series=$study_uid.2 sc_series=$study_uid.3 us_series=$study_uid.4
	for i in 1 2 3; do
		dicom_object "ct$i.dcm" +te =CTImageStorage "$ct_series.$i" "$ct_series" "$i" ct.dump
	done
	dicom_object ct-dose.dcm +te =SecondaryCaptureImageStorage "$sc_series.1" "$sc_series" 1 ct-dose.dump
	for i in 1 2; do
		dicom_object "mr$i.dcm" +ti =MRImageStorage "$mr_series.$i" "$mr_series" "$i" mr.dump
	done
	dicom_object us1.dcm +te =UltrasoundImageStorage "$us_series.1" "$us_series" 1 us.dump
	cd - >/dev/null
}

# pacs_start [STORESCP-OPTIONS...]: storescp (AE PACS_MAIN, port 104) and
# dcmqrscp (AE PACS_QR, port 11112, knows CT_ROOM2 and MR_ROOM1 only, its
# database indexed beforehand with dcmqridx) in the pacs namespace.
pacs_start() {
	local run=$work/run
	mkdir -p "$run/store" "$run/qrdb"
	cat >"$run/dcmqrscp.cfg" <<-EOF
		NetworkTCPPort  = 11112
		MaxPDUSize      = 16384
		MaxAssociations = 16
		HostTable BEGIN
		ct_room2 = (CT_ROOM2, ${addr[ct]}, 104)
		mr_room1 = (MR_ROOM1, ${addr[mr]}, 104)
		modalities = ct_room2, mr_room1
		HostTable END
		VendorTable BEGIN
		VendorTable END
		AETable BEGIN
		PACS_QR $run/qrdb RW (100, 64mb) modalities
		AETable END
	EOF
	dcmqridx "$run/qrdb" "$work"/dicom/ct[123].dcm "$work"/dicom/mr[12].dcm
	start pacs storescp storescp -v -aet PACS_MAIN -dhl --single-process -od "$run/store" "$@" 104
	storescp_pid=$last_pid
	wait_for 10 listening pacs 104
	# dcmqrscp 3.6.7 in --single-process mode segfaults after a completed
	# C-FIND association (after its A-RELEASE-RP), so it runs in its
	# default mode, one child process per association.
	start pacs dcmqrscp dcmqrscp -v -c "$run/dcmqrscp.cfg" -dhl 11112
	wait_for 10 listening pacs 11112
}

pacs_logs() {
	cat "$work/storescp.log" "$work/dcmqrscp.log" >&2
}

# scenario_store: the CT checks the PACS with C-ECHO, then sends three CT
# images and a secondary capture (explicit VR LE files; storescu proposes all
# uncompressed transfer syntaxes for each SOP class); the MR sends two MR
# images proposing implicit VR little endian only.
scenario_store() {
	local d=$work/dicom
	pacs_start
	ns ct echoscu -v -aet CT_ROOM2 -aec PACS_MAIN "${addr[pacs]}" 104 >&2
	sleep 0.3
	ns ct storescu -v -aet CT_ROOM2 -aec PACS_MAIN -R "${addr[pacs]}" 104 \
		"$d/ct1.dcm" "$d/ct2.dcm" "$d/ct3.dcm" "$d/ct-dose.dcm" >&2
	sleep 0.3
	ns mr storescu -v -aet MR_ROOM1 -aec PACS_MAIN -R -xi "${addr[pacs]}" 104 \
		"$d/mr1.dcm" "$d/mr2.dcm" >&2
	sleep 0.3
	ls -l "$work/run/store" >&2
	pacs_logs
}

# scenario_find: study-level C-FIND from the CT to PACS_QR (one match, with
# the planted PHI in the identifiers), then the same query to PACS_MAIN, a
# storescp without any query model: it accepts the association with no
# presentation context and findscu closes the connection (no PDU).
scenario_find() {
	pacs_start
	ns ct findscu -v -aet CT_ROOM2 -aec PACS_QR -S \
		-k QueryRetrieveLevel=STUDY -k PatientID=PID-778899 -k PatientName \
		-k PatientBirthDate -k StudyDate -k AccessionNumber -k StudyInstanceUID \
		-k ReferringPhysicianName \
		"${addr[pacs]}" 11112 >&2
	sleep 0.3
	ns ct findscu -v -aet CT_ROOM2 -aec PACS_MAIN -S \
		-k QueryRetrieveLevel=STUDY -k PatientID=PID-778899 -k StudyInstanceUID \
		"${addr[pacs]}" 104 >&2 || echo "findscu to PACS_MAIN failed as expected" >&2
	sleep 0.3
	pacs_logs
}

# scenario_reject: three associations refused with A-ASSOCIATE-RJ, then one
# aborted: the ultrasound cart is not in PACS_QR's host table and the MR calls
# a wrong AE title "PACS" on PACS_QR (dcmqrscp refuses both with "called AE
# title not recognized"), the CT calls PACS_MAIN while storescp runs with
# --refuse (rejected, no reason given); then storescp is restarted with
# --abort-after and answers the CT's first C-STORE-RQ with an A-ABORT.
scenario_reject() {
	local d=$work/dicom
	pacs_start --refuse
	ns us storescu -v -aet US_CART4 -aec PACS_QR -R "${addr[pacs]}" 11112 "$d/us1.dcm" >&2 ||
		echo "US_CART4 -> PACS_QR rejected as expected" >&2
	sleep 0.3
	ns mr storescu -v -aet MR_ROOM1 -aec PACS -R "${addr[pacs]}" 11112 "$d/mr1.dcm" >&2 ||
		echo "MR_ROOM1 -> PACS rejected as expected" >&2
	sleep 0.3
	ns ct storescu -v -aet CT_ROOM2 -aec PACS_MAIN -R "${addr[pacs]}" 104 "$d/ct1.dcm" >&2 ||
		echo "CT_ROOM2 -> PACS_MAIN (--refuse) rejected as expected" >&2
	sleep 0.3
	stop "$storescp_pid"
	cat "$work/storescp.log" >&2
	start pacs storescp storescp -v -aet PACS_MAIN -dhl --single-process \
		-od "$work/run/store" --abort-after 104
	storescp_pid=$last_pid
	wait_for 10 listening pacs 104
	ns ct storescu -v -aet CT_ROOM2 -aec PACS_MAIN -R "${addr[pacs]}" 104 "$d/ct1.dcm" >&2 ||
		echo "CT_ROOM2 -> PACS_MAIN (--abort-after) aborted as expected" >&2
	sleep 0.3
	pacs_logs
}

# scenario_hl7: the listener answers every message with MSA|AA except
# MON0002 (MSA|AE); the monitor sends three ORU^R01 on one connection, the
# ADT system an ADT^A01 and an ADT^A08 on another (mllp_send --loose turns
# the files' newlines into segment separators).
scenario_hl7() {
	start hl7eng mllp_listener "$py" "$med_dir/mllp_listener.py" \
		--host "${addr[hl7eng]}" --port 2575 --nack MON0002
	local listener_pid=$last_pid
	wait_for 10 listening hl7eng 2575
	ns adt mllp_send --loose -f "$med_dir/adt.hl7" -p 2575 "${addr[hl7eng]}" | tr '\r' '\n' >&2
	sleep 0.3
	ns monitor mllp_send --loose -f "$med_dir/monitor-pcd01.hl7" -p 2575 "${addr[hl7eng]}" | tr '\r' '\n' >&2
	sleep 0.3
	stop "$listener_pid"
	cat "$work/mllp_listener.log" >&2
}

umask 022
make_dicom

segment_up
capture_start "$out_dir/dicom-store.pcap"
scenario_store
capture_stop
segment_down

segment_up
capture_start "$out_dir/dicom-find.pcap"
scenario_find
capture_stop
segment_down

segment_up
capture_start "$out_dir/dicom-reject.pcap"
scenario_reject
capture_stop
segment_down

segment_up
capture_start "$out_dir/hl7-mllp.pcap"
scenario_hl7
capture_stop
segment_down

ls -l "$out_dir"/dicom-*.pcap "$out_dir"/hl7-*.pcap >&2
