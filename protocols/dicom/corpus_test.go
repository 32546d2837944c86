package dicom

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFile is the shared corpus capture of DICOM: four A-ASSOCIATE-RQs
// from grailbio go-netdicom on port 104, client side only.
const corpusFile = "dicom/ndpi-dicom.pcap"

// frameObs is what the decoder said while the chunks of one frame were fed.
type frameObs struct {
	Frame int
	Obs   []string
}

// decodeStreams runs each TCP connection of path through Detect and a
// decoder, as the sensor would, and returns the observations by frame and
// the errors.
func decodeStreams(t *testing.T, path string, ports ...uint16) (out []frameObs, errs []error) {
	t.Helper()
	out, errs, _ = decodeStreamsSkipping(t, path, false, ports...)
	return out, errs
}

// decodeStreamsSkipping is decodeStreams, honouring the decoder's skips as
// the sensor does when honour is set: after each Feed, the bytes Skip asks
// for are dropped from what follows in that direction, data or gap alike.
// It also returns the bytes skipped per direction.
func decodeStreamsSkipping(t *testing.T, path string, honour bool, ports ...uint16) (out []frameObs, errs []error, skipped [2]int) {
	t.Helper()
	for _, s := range corpustest.TCPStreams(t, path, ports...) {
		var (
			d        protocols.Decoder
			detected [2]bool
			tried    [2]bool
			cur      *frameObs
			skip     [2]int
		)
		emit := func(o protocols.Observation) { cur.Obs = append(cur.Obs, compact(o)) }
		for _, c := range s.Chunks {
			if cur == nil || cur.Frame != c.Frame {
				out = append(out, frameObs{Frame: c.Frame})
				cur = &out[len(out)-1]
			}
			if c.Gap > 0 {
				k := min(c.Gap, skip[c.Dir])
				skip[c.Dir] -= k
				skipped[c.Dir] += k
				if d != nil && c.Gap > k {
					d.Gap(c.Dir, c.Gap-k, time.Time{}, emit)
				}
				continue
			}
			if k := min(len(c.Data), skip[c.Dir]); k > 0 {
				skip[c.Dir] -= k
				skipped[c.Dir] += k
				if c.Data = c.Data[k:]; len(c.Data) == 0 {
					continue
				}
			}
			if !tried[c.Dir] {
				tried[c.Dir] = true
				detected[c.Dir] = Detect(c.Dir, c.Data)
				if detected[c.Dir] && d == nil {
					d = New(protocols.FlowInfo{Transport: protocols.TCP, Client: s.Client, Server: s.Server})
				}
			}
			if d == nil {
				continue
			}
			if err := d.Feed(c.Dir, c.Data, time.Time{}, emit); err != nil {
				errs = append(errs, fmt.Errorf("frame %d: %w", c.Frame, err))
				d = nil
				continue
			}
			if honour {
				skip[c.Dir] += d.(protocols.Skipper).Skip(c.Dir)
			}
		}
		if d != nil {
			out = append(out, frameObs{Frame: -1})
			cur = &out[len(out)-1]
			d.Close(time.Time{}, emit)
		}
	}
	// Keep the frames that said something.
	var kept []frameObs
	for _, f := range out {
		if len(f.Obs) > 0 {
			kept = append(kept, f)
		}
	}
	return kept, errs, skipped
}

// associationOnly keeps the association observations (those tshark can
// confirm field by field).
func associationOnly(in []frameObs) []frameObs {
	var out []frameObs
	for _, f := range in {
		var obs []string
		for _, o := range f.Obs {
			if strings.Contains(o, "|dicom.a-associate-") {
				obs = append(obs, o)
			}
		}
		if len(obs) > 0 {
			out = append(out, frameObs{f.Frame, obs})
		}
	}
	return out
}

func compareFrames(t *testing.T, got, want []frameObs) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d frames with observations, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("Test %d:\nexpected %v\ngot      %v", i, want[i], got[i])
		}
	}
}

// tsharkFields are the fields asked of tshark, in this order.
var tsharkFields = []string{
	"frame.number", "tcp.stream", "dicom.pdu.type", "dicom.assoc.ae.calling", "dicom.assoc.ae.called",
	"dicom.actx", "dicom.pctx.id", "dicom.pctx.result", "dicom.pctx.abss.syntax", "dicom.pctx.xfer.syntax",
	"dicom.max_pdu_len", "dicom.userinfo.uid", "dicom.userinfo.version",
	"dicom.assoc.reject.result", "dicom.assoc.reject.source", "dicom.assoc.reject.reason",
}

// tsharkText runs tshark over path with DICOM decoded on ports and returns
// its output, one line per frame holding DICOM.
func tsharkText(t *testing.T, tshark, path string, ports ...uint16) string {
	t.Helper()
	args := []string{"-r", path, "-Y", "dicom", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|"}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,dicom", p))
	}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", path, err, stderr.String())
	}
	return string(out)
}

// uidOf takes the UID out of tshark's "Name (1.2.3)" rendering.
func uidOf(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, "("); i >= 0 {
			return s[i+1 : len(s)-1]
		}
	}
	return s
}

func splitAgg(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// expectFromTshark turns tshark's lines into the association observations
// the decoder must make, following the README.
func expectFromTshark(text string) ([]frameObs, error) {
	var out []frameObs
	// Proposed abstract syntax by stream and context id, for the AC.
	proposed := map[string]map[string]string{}
	for line := range strings.Lines(text) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) != len(tsharkFields) {
			return nil, fmt.Errorf("%d fields in %q", len(f), line)
		}
		frame, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, err
		}
		stream := f[1]
		var obs []string
		tail := func(facts []string) []string {
			if f[10] != "" {
				facts = append(facts, FactMaxPDU+"="+f[10])
			}
			if f[11] != "" {
				facts = append(facts, FactImplementationUID+"="+f[11])
			}
			if f[12] != "" {
				facts = append(facts, FactImplementationVer+"="+f[12])
			}
			return facts
		}
		for _, typ := range splitAgg(f[2]) {
			switch typ {
			case "0x01":
				facts := []string{FactAETitle + "=" + strings.TrimSpace(f[3]), FactApplicationCtx + "=" + uidOf(f[5])}
				ids, abs := splitAgg(f[6]), splitAgg(f[8])
				if len(ids) != len(abs) {
					return nil, fmt.Errorf("frame %d: %d context ids, %d abstract syntaxes", frame, len(ids), len(abs))
				}
				proposed[stream] = map[string]string{}
				var sops, syntaxes []string
				for i, a := range abs {
					proposed[stream][ids[i]] = uidOf(a)
					if !slices.Contains(sops, uidOf(a)) {
						sops = append(sops, uidOf(a))
					}
				}
				for _, x := range splitAgg(f[9]) {
					if !slices.Contains(syntaxes, uidOf(x)) {
						syntaxes = append(syntaxes, uidOf(x))
					}
				}
				for _, s := range sops {
					facts = append(facts, FactSOPClass+"="+s)
				}
				for _, s := range syntaxes {
					facts = append(facts, FactTransferSyntax+"="+s)
				}
				obs = append(obs, "sender|dicom.a-associate-rq|scu|"+strings.Join(tail(facts), " "),
					"receiver|dicom.a-associate-rq||"+FactAETitle+"="+strings.TrimSpace(f[4]))
			case "0x02":
				facts := []string{FactAETitle + "=" + strings.TrimSpace(f[4]), FactApplicationCtx + "=" + uidOf(f[5])}
				ids, results := splitAgg(f[6]), splitAgg(f[7])
				var accepted []string
				for i, id := range ids {
					if i < len(results) && (results[i] == "0" || results[i] == "0x00") {
						if a := proposed[stream][id]; a != "" && !slices.Contains(accepted, a) {
							accepted = append(accepted, a)
						}
					}
				}
				for _, a := range accepted {
					facts = append(facts, FactAcceptedSOPClass+"="+a)
				}
				obs = append(obs, "sender|dicom.a-associate-ac|scp|"+strings.Join(tail(facts), " "))
			case "0x03":
				r, _ := strconv.Atoi(f[13])
				s, _ := strconv.Atoi(f[14])
				n, _ := strconv.Atoi(f[15])
				obs = append(obs, "sender|dicom.a-associate-rj||"+strings.Join([]string{
					FactRejectResult + "=" + coded(byte(r), rejectResultName(byte(r))),
					FactRejectSource + "=" + coded(byte(s), rejectSourceName(byte(s))),
					FactRejectReason + "=" + coded(byte(n), rejectReasonName(byte(s), byte(n))),
				}, " "))
			}
		}
		if len(obs) > 0 {
			out = append(out, frameObs{frame, obs})
		}
	}
	return out, nil
}

// corpusTshark is tshark 4.0's decoding of the corpus capture
// (tsharkFields, run TestCorpusTshark with DICOM_PRINT_TSHARK=1 to print it
// again): the stored expectation when tshark is absent.
func corpusTshark(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tshark", "ndpi-dicom.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCorpus(t *testing.T) {
	path := corpustest.File(t, corpusFile)
	got, errs := decodeStreams(t, path, 104)
	if len(errs) > 0 {
		t.Errorf("unexpected errors: %v", errs)
	}
	want, err := expectFromTshark(corpusTshark(t))
	if err != nil {
		t.Fatal(err)
	}
	compareFrames(t, got, want)
}

// TestCorpusKnownFacts checks what the corpus manifest says of the capture.
func TestCorpusKnownFacts(t *testing.T) {
	got, _ := decodeStreams(t, corpustest.File(t, corpusFile), 104)
	type rq struct {
		frame           int
		calling, called string
		sops            int
	}
	want := []rq{{1, "testclient", "testserver", 4}, {3, "testclient", "testserver", 123}, {5, "testclient", "testserver", 123}, {6, "bogus_local", "bogus_remote", 4}}
	if len(got) != len(want) {
		t.Fatalf("expected %d frames with observations, got %d", len(want), len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Frame != w.frame || len(g.Obs) != 2 {
			t.Errorf("Test %d: expected frame %d with 2 observations, got %d with %d", i, w.frame, g.Frame, len(g.Obs))
			continue
		}
		for _, fact := range []string{"dicom.ae_title=" + w.calling + " ", "dicom.implementation_class_uid=1.2.826.0.1.3680043.9.7133.1.1",
			"dicom.implementation_version=GODICOM_1_1", "dicom.max_pdu=4194304"} {
			if !strings.Contains(g.Obs[0], fact) {
				t.Errorf("Test %d: expected %s in %s", i, fact, g.Obs[0])
			}
		}
		if n := strings.Count(g.Obs[0], "dicom.sop_class="); n != w.sops {
			t.Errorf("Test %d: expected %d SOP classes, got %d", i, w.sops, n)
		}
		if g.Obs[1] != "receiver|dicom.a-associate-rq||dicom.ae_title="+w.called {
			t.Errorf("Test %d: expected called AE %s, got %s", i, w.called, g.Obs[1])
		}
	}
}

// TestCorpusTshark compares the decoder and the stored table with a live
// tshark run, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	path := corpustest.File(t, corpusFile)
	text := tsharkText(t, tshark, path, 104)
	if os.Getenv("DICOM_PRINT_TSHARK") == "1" {
		t.Logf("\n%s", text)
	}
	if text != corpusTshark(t) {
		t.Errorf("live tshark output differs from testdata/tshark/ndpi-dicom.txt")
	}
	want, err := expectFromTshark(text)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := decodeStreams(t, path, 104)
	compareFrames(t, got, want)
}

// repoCaptures returns the repository's testdata/captures/dicom-*.pcap
// files (real dcmtk traffic), found by walking up to go.mod, or skips.
func repoCaptures(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			files, _ := filepath.Glob(filepath.Join(dir, "testdata", "captures", "dicom-*.pcap*"))
			if len(files) == 0 {
				t.Skip("no testdata/captures/dicom-*.pcap in the repository yet")
			}
			return files
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
}

// repoPHI is the PHI the capture script plants in its DICOM objects and
// C-FIND identifiers, besides the names in phi.
var repoPHI = []string{"SMITH^JOHN", "ACC-5544", "S5544", "2.25.197001017788995544", "20260101"}

// repoFacts are device facts the capture script gives its DICOM objects.
var repoFacts = []struct{ file, obs string }{
	{"dicom-store.pcap", "sender|dicom.c-store-rq||dicom.modality=CT dicom.manufacturer=GE MEDICAL SYSTEMS dicom.institution=ST ELSEWHERE HOSPITAL " +
		"dicom.station_name=CT_ROOM2 dicom.department=RADIOLOGY dicom.model=Revolution Apex 128 dicom.serial=CT7712GE0042 dicom.software_versions=revo_apex_24.1\\gmp_os_7.2"},
	{"dicom-store.pcap", "sender|dicom.c-store-rq||dicom.modality=MR dicom.manufacturer=SIEMENS dicom.institution=ST ELSEWHERE HOSPITAL " +
		"dicom.station_name=MRC41877 dicom.department=NEURORADIOLOGY dicom.model=MAGNETOM Vida Fit dicom.serial=41877 dicom.software_versions=syngo MR XA51"},
	{"dicom-store.pcap", "sender|dicom.c-echo-rsp||dicom.command=C-ECHO-RSP dicom.status=0x0000 dicom.sop_class=1.2.840.10008.1.1"},
	{"dicom-find.pcap", "sender|dicom.c-find-rsp||dicom.command=C-FIND-RSP dicom.status=0xff00 dicom.sop_class=1.2.840.10008.5.1.4.1.2.2.1"},
	{"dicom-reject.pcap", "sender|dicom.a-associate-rj||dicom.reject_result=1 (rejected-permanent) dicom.reject_source=1 (DICOM UL service-user) dicom.reject_reason=7 (called-AE-title-not-recognized)"},
	{"dicom-reject.pcap", "sender|dicom.a-abort||dicom.abort_source=0 (DICOM UL service-user)"},
}

// TestRepoCaptures decodes the dcmtk captures: every association PDU agrees
// with tshark (when installed), no decoder error, and no planted PHI in any
// observation.
func TestRepoCaptures(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	for _, path := range repoCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, errs := decodeStreams(t, path)
			if len(errs) > 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
			if len(got) == 0 {
				t.Fatal("no observation")
			}
			for _, f := range got {
				for _, o := range f.Obs {
					for _, p := range append(phi, repoPHI...) {
						if strings.Contains(o, p) {
							t.Errorf("frame %d: planted %q leaked: %s", f.Frame, p, o)
						}
					}
					t.Logf("frame %d: %s", f.Frame, o)
				}
			}
			for i, tc := range repoFacts {
				if tc.file != filepath.Base(path) {
					continue
				}
				found := false
				for _, f := range got {
					found = found || slices.Contains(f.Obs, tc.obs)
				}
				if !found {
					t.Errorf("Test %d: expected %s, not found", i, tc.obs)
				}
			}
			if tshark == "" {
				return
			}
			var ports []uint16
			for _, s := range corpustest.TCPStreams(t, path) {
				if !slices.Contains(ports, s.Server.Port()) {
					ports = append(ports, s.Server.Port())
				}
			}
			want, err := expectFromTshark(tsharkText(t, tshark, path, ports...))
			if err != nil {
				t.Fatal(err)
			}
			compareFrames(t, associationOnly(got), want)
		})
	}
}
