package netbios

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold NetBIOS (some frames in VLANs).
var corpusFiles = []string{"netbios/ndpi-netbios.pcap"}

// corpusObs is one datagram's observations in compact form:
// "source|role|ip|mac|hostname|name=value ..." ("" for none), keyed by frame.
func decodeCorpus(t *testing.T) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, d := range corpustest.UDP(t, corpustest.File(t, corpusFiles[0]), NameServicePort, DatagramServicePort) {
		var got []string
		dec := New(protocols.FlowInfo{Transport: protocols.UDP, Client: d.Src, Server: d.Dst})
		err := dec.Feed(protocols.FromClient, d.Payload, time.Time{}, func(o protocols.Observation) {
			s := o.Source + "|" + o.Role + "|"
			if o.IP.IsValid() {
				s += o.IP.String()
			}
			s += "|"
			if !o.MAC.IsZero() {
				s += o.MAC.String()
			}
			s += "|" + o.Hostname + "|"
			for i, f := range o.Facts {
				if i > 0 {
					s += " "
				}
				s += f.Name + "=" + f.Value
			}
			got = append(got, s)
		})
		if err != nil {
			t.Errorf("frame %d: %v", d.Frame, err)
		}
		out[d.Frame] = strings.Join(got, "\n")
	}
	return out
}

// corpusWant is every NetBIOS datagram of ndpi-netbios.pcap by shape, the
// frames listed (each shape was checked against tshark 4.0.17 by
// TestCorpusTshark below).
var corpusWant = []struct {
	frames []int
	obs    string
}{
	{[]int{69}, "netbios.query_response|server|10.0.4.24||GUNNAR|netbios.name=GUNNAR<00>"},
	{[]int{107}, "netbios.query_response|server|10.0.5.1||GURU|netbios.name=GURU<00>"},
	{[]int{129}, "netbios.node_status|server||00:1c:c4:10:79:0f|GUNNAR|netbios.name=GUNNAR<00> netbios.group=VIGILANT_GROUP netbios.name=GUNNAR<20>"},
	{[]int{20}, "netbios.host_announcement|server|10.0.5.9||NVR9|netbios.name=NVR9<20> netbios.group=VIGILANT_GROUP netbios.server=NVR9 netbios.os_version=6.1 netbios.server_type=0x00011007"},
	{[]int{113}, "netbios.host_announcement|server|10.0.5.93||BOWIE|netbios.name=BOWIE<20> netbios.group=VIGILANT_GROUP netbios.server=BOWIE netbios.os_version=6.1 netbios.server_type=0x00011007"},
	{[]int{68}, "netbios.query|client||||netbios.query=GUNNAR<00>"},
	{[]int{56}, "netbios.query|client||||netbios.query=MULI<00>"},
	{[]int{137}, "netbios.query|client||||netbios.query=NVR9<00>"},
}

func TestCorpus(t *testing.T) {
	got := decodeCorpus(t)
	for i, w := range corpusWant {
		for _, fr := range w.frames {
			if got[fr] != w.obs {
				t.Errorf("Test %d frame %d:\nexpected %s\ngot      %s", i, fr, w.obs, got[fr])
			}
		}
	}
	// Every datagram decodes without error (checked in decodeCorpus); count the shapes.
	shapes := map[string]int{}
	for _, o := range got {
		src, _, _ := strings.Cut(o, "|")
		shapes[src]++
	}
	want := map[string]int{"netbios.query": 250, "netbios.query_response": 2, "netbios.node_status": 4, "netbios.host_announcement": 2}
	for k, v := range want {
		if shapes[k] != v {
			t.Errorf("expected %d %s observations, got %d (%v)", v, k, shapes[k], shapes)
		}
	}
}

// TestCorpusTshark checks each decoded datagram field by field against
// tshark's decoding of the same frame: NBNS question and answer names,
// answer addresses, node status names with their group flags and unit id,
// and the NBDGM source/destination names and browser announcement fields.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	path := corpustest.File(t, corpusFiles[0])
	fields := []string{"frame.number", "nbns.flags.response", "nbns.name", "nbns.addr", "nbns.netbios_name",
		"nbns.name_flags.group", "nbns.unit_id", "nbdgm.source_name", "nbdgm.destination_name", "nbdgm.src.ip",
		"browser.command", "browser.server", "browser.os_major", "browser.os_minor", "browser.server_type", "browser.comment"}
	args := []string{"-r", path, "-Y", "nbns || nbdgm", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	got := decodeCorpus(t)
	n := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) != len(fields) {
			t.Fatalf("unexpected tshark line %q", line)
		}
		var fr int
		for _, c := range f[0] {
			fr = fr*10 + int(c-'0')
		}
		g := got[fr]
		cut := func(s string) string { v, _, _ := strings.Cut(s, " ("); return v } // "GUNNAR<00> (Workstation/Redirector)"
		var want []string
		switch {
		case f[10] == "0x01":
			src := cut(f[7])
			want = []string{"netbios.host_announcement|server|" + f[9] + "||" + f[11] + "|netbios.name=" + src +
				" netbios.group=" + strings.SplitN(cut(f[8]), "<", 2)[0] + " netbios.server=" + f[11] +
				" netbios.os_version=" + f[12] + "." + f[13] + " netbios.server_type=" + f[14]}
			if f[15] != "" {
				want[0] += " netbios.comment=" + f[15]
			}
		case f[1] == "0":
			want = []string{"netbios.query|client||||netbios.query=" + strings.ReplaceAll(cut(f[2]), "<00><00><00><00><00><00><00><00><00><00><00><00><00><00><00>", "<00>")}
		case f[3] != "":
			name := cut(f[2])
			want = []string{"netbios.query_response|server|" + f[3] + "||" + strings.SplitN(name, "<", 2)[0] + "|netbios.name=" + name}
		case f[4] != "":
			// Node status: tshark gives the names without suffix; compare
			// the decoded names and groups in order, and the unit id.
			names, groups := strings.Split(f[4], "|"), strings.Split(f[5], "|")
			ours := strings.Fields(g[strings.LastIndex(g, "|")+1:])
			var theirs []string
			for i, nm := range names {
				if groups[i] == "1" {
					if !slices.Contains(theirs, "netbios.group="+nm) {
						theirs = append(theirs, "netbios.group="+nm)
					}
				} else {
					theirs = append(theirs, "netbios.name="+nm)
				}
			}
			var oursNoSuffix []string
			for _, o := range ours {
				oursNoSuffix = append(oursNoSuffix, strings.SplitN(o, "<", 2)[0])
			}
			if !slices.Equal(oursNoSuffix, theirs) || !strings.Contains(g, "|"+f[6]+"|") {
				t.Errorf("frame %d: tshark names %v unit %s, decoded %s", fr, theirs, f[6], g)
			}
			n++
			continue
		}
		if want == nil {
			t.Errorf("frame %d: tshark line %q not understood", fr, line)
			continue
		}
		if g != strings.Join(want, "\n") {
			t.Errorf("frame %d:\nexpected %s\ngot      %s", fr, strings.Join(want, "\n"), g)
		}
		n++
	}
	if n != 258 {
		t.Errorf("expected 258 NetBIOS datagrams from tshark, compared %d", n)
	}
}
