package intellivue

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// There is no public capture of IntelliVue Data Export. The fixtures below
// are built byte by byte from the layouts of the Philips "Data Export
// Interface Programming Guide" (IntelliVue X2, MP and MX series, part
// 4535 642 59271, "the guide"); the section each part follows is named in
// its comment. They are spec-derived, not captured.

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// compact renders an observation as "about|source|role|mac|ip|name=value;...".
func compact(o protocols.Observation) string {
	var f []string
	for _, x := range o.Facts {
		f = append(f, x.Name+"="+x.Value)
	}
	mac, ip := "", ""
	if !o.MAC.IsZero() {
		mac = o.MAC.String()
	}
	if o.IP.IsValid() {
		ip = o.IP.String()
	}
	about := "sender"
	if o.About == protocols.Receiver {
		about = "receiver"
	}
	return strings.Join([]string{about, o.Source, o.Role, mac, ip, strings.Join(f, ";")}, "|")
}

func decode(d protocols.Decoder, dir protocols.Direction, data []byte) ([]string, error) {
	var out []string
	err := d.Feed(dir, data, time.Time{}, func(o protocols.Observation) {
		if o.Protocol != "intellivue" {
			out = append(out, "bad protocol "+o.Protocol)
		}
		out = append(out, compact(o))
	})
	return out, err
}

// connectIndication: the guide, chapter 6 "Device Discovery Messages",
// CONNECT INDICATION EVENT, broadcast by the monitor to UDP 24005.
const connectIndication = `
00000100         Nomenclature (chapter 5 "Nomenclature": magic 0, major 1, minor 0)
0001 0056        ROapdus {ro_type ROIV_APDU, length 86}
0000 0000 0050   ROIVapdu {invoke_id 0, command_type CMD_EVENT_REPORT, length 80}
0023 0000 0000   EventReportArgument managed_object {NOM_MOC_MDS_COMPOS_SINGLE_BED, context 0, handle 0}
000a2c00         event_time (RelativeTime)
0d17 0042        event_type NOM_NOTI_MDS_CONNECT_INDIC, length 66
0004 003e        ConnectIndInfo = AttributeList {count 4, length 62}
0986 0004 0001 114d                  NOM_ATTR_SYS_TYPE: TYPE {NOM_PART_OBJ, MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS}
0937 0008 06080608 0001 000b         NOM_ATTR_LOCALIZN: SystemLocal {text catalog, LANGUAGE_ENGLISH, STRFMT_UNICODE_NT} (not read)
f100 000e 0009fb123456 c0a8010a ffffff00   NOM_ATTR_NET_ADDR_INFO: IpAddressInfo {MAC 00:09:fb:12:34:56, 192.168.1.10, 255.255.255.0}
f101 0014 0002 0010                  NOM_ATTR_PCOL_SUPPORT: ProtoSupport {count 2, length 16}
  0001 0001 5e29 0000                  {AP_ID_ACSE, TP_ID_UDP, port 24105, options 0}
  0005 0001 5e29 0000                  {AP_ID_DATA_OUT, TP_ID_UDP, port 24105, options 0}
`

// associationRequest: the guide, chapter 6 "Association Request Message"
// (sent by the computer client to UDP 24105).
const associationRequest = `
0d ec                               SessionHeader {CN_SPDU_SI, LI 236}
05081301001601028000140200 02       SessionData
c1 dc                               PresentationHeader
3180a0808001010000a280a003000001a4803080020101060452010001308006025101000000003080020102
060c2a8648ce1402010000000101        (OID 1.2.840.10004.2.1.0.0.0.1.1)
3080060c2a8648ce140201000000020100000000000061803080020101a0806080a180
060c2a8648ce1402010000000301        (OID 1.2.840.10004.2.1.0.0.0.3.1)
0000be802880060c2a8648ce14020100000001010201 02
81 48                               user data length 72
80000000                            MDSEUserInfoStd protocol_version MDDL_VERSION1
40000000                            nomenclature_version NOMEN_VERSION
00000000                            functional_units
80000000                            system_type SYST_CLIENT
20000000                            startup_mode COLD_START
0000 0000                           option_list (empty)
0001 002c                           supported_aprofiles {count 1, length 44}
  0001 0028                           NOM_POLL_PROFILE_SUPPORT: PollProfileSupport
  80000000 00001f40 000003e8 000003e8 ffffffff 60000000
  0001 000c f001 0008 88000000 0000 0000   optional_packages: NOM_ATTR_POLL_PROFILE_EXT
00000000000000000000000000000000    PresentationTrailer
`

// associationResponse: the guide, chapter 6 "Association Response
// Message" (the monitor's answer, system_type SYST_SERVER).
const associationResponse = `
0e c9                               SessionHeader {AC_SPDU_SI, LI 201}
050813010014020002                  SessionData
c1 be                               PresentationHeader
3180a0808001010000a280a003000001a58030808001008102510100003080800100
810c2a8648ce1402010000000201        (OID 1.2.840.10004.2.1.0.0.0.2.1)
0000000061803080020101a0806180a180
060c2a8648ce1402010000000301        (OID 1.2.840.10004.2.1.0.0.0.3.1)
0000a203020100a305a103020100be80288002 0102
81 48                               user data length 72
80000000 40000000 00000000          protocol_version, nomenclature_version, functional_units
00800000                            system_type SYST_SERVER
20000000 0000 0000                  startup_mode, option_list
0001 002c 0001 0028 80000000 00001f40 000003e8 000003e8 ffffffff 60000000 0001 000c f001 0008 88000000 0000 0000
00000000000000000000000000000000    PresentationTrailer
`

// mdsCreate: the guide, chapter 6 "MDS CREATE EVENT" with the MDS
// attributes of chapter 7 "System Objects" (the monitor to the client).
const mdsCreate = `
e100 0002                           SPpdu {session_id 0xE100, p_context_id 2}
0001 00b4                           ROapdus {ROIV_APDU, length 180}
0001 0001 00ae                      ROIVapdu {invoke_id 1, CMD_CONFIRMED_EVENT_REPORT, length 174}
0021 0000 0000                      managed_object {NOM_MOC_VMS_MDS, 0, 0}
000a2c10                            event_time
0d06 00a0                           NOM_NOTI_MDS_CREAT, length 160
0021 0000 0000                      MdsCreateInfo managed_object
0007 0096                           AttributeList {count 7, length 150}
0921 0002 0000                      NOM_ATTR_ID_HANDLE (not read)
0986 0004 0001 114d                 NOM_ATTR_SYS_TYPE
0928 0012 0008 5068696c69707300 0006 4d3830303741   NOM_ATTR_ID_MODEL: SystemModel {"Philips\0", "M8007A"}
0984 0008 0006 0009fb123456         NOM_ATTR_SYS_ID: VariableLabel (MAC)
0948 0004 40000000                  NOM_ATTR_NOM_VERS
091e 000c 000a 0042004500440020 0037   NOM_ATTR_ID_BED_LABEL: String "BED 7" (never read)
092d 004a 0005 0046                 NOM_ATTR_ID_PROD_SPECN: ProductionSpec {count 5, length 70}
  0001 0008 000a 44453132333435363738     {SERIAL_NUMBER, ID_COMP_PRODUCT, "DE12345678"}
  0002 0008 0006 4d3830303741             {PART_NUMBER, ID_COMP_PRODUCT, "M8007A"}
  0003 0008 0008 412e30312e303200         {HW_REVISION, ID_COMP_PRODUCT, "A.01.02\0"}
  0004 0058 0008 4a2e31302e353220         {SW_REVISION, ID_COMP_APPL_SW, "J.10.52 "}
  0005 0050 0008 2d2d2d2d2d2d2d2d         {FW_REVISION, ID_COMP_MAIN_BD, "--------" placeholder}
`

// pollRequest: a Poll Data Request (chapter 6 "Poll Data Request"): valid
// data export, no identity.
const pollRequest = `
e100 0002 0001 001c 0002 0007 0016
0021 0000 0000 0c16 000c 0001 0001 0006 0000 0000 0000`

var fixtures = []struct {
	name string
	dir  protocols.Direction
	hex  string
	want []string
}{
	{"connect indication", protocols.FromClient, connectIndication, []string{
		"sender|intellivue.connect_indication|server|00:09:fb:12:34:56|192.168.1.10|intellivue.message=connect_indication;intellivue.system_type=1:4429;" +
			"intellivue.protocol_support=acse/udp/24105;intellivue.protocol_support=data_out/udp/24105",
	}},
	{"association request", protocols.FromClient, associationRequest, []string{
		"sender|intellivue.association_request|client|||intellivue.message=association_request;intellivue.system_type=client",
	}},
	{"association response", protocols.FromServer, associationResponse, []string{
		"sender|intellivue.association_response|server|||intellivue.message=association_response;intellivue.system_type=server",
	}},
	{"mds create", protocols.FromServer, mdsCreate, []string{
		"sender|intellivue.mds_create|server|00:09:fb:12:34:56||intellivue.message=mds_create;intellivue.system_type=1:4429;" +
			"intellivue.manufacturer=Philips;intellivue.model=M8007A;intellivue.system_id=00:09:fb:12:34:56;intellivue.nomenclature_version=40000000;" +
			"intellivue.serial=DE12345678;intellivue.part_number=M8007A;intellivue.hw_revision=A.01.02;intellivue.sw_revision=J.10.52",
	}},
	{"poll request", protocols.FromClient, pollRequest, nil},
	{"release request", protocols.FromClient, "09 00", nil},
	{"abort", protocols.FromServer, "19 2e 1130 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000", nil},
}

// strip drops the comment text of a fixture: every word that is not hex.
func strip(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, w := range strings.Fields(line) {
			if _, err := hex.DecodeString(w); err != nil || len(w)%2 != 0 {
				break
			}
			out = append(out, w)
		}
	}
	return strings.Join(out, "")
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, strip(tc.hex))
		if tc.name != "release request" && tc.name != "abort" && !Detect(tc.dir, data) {
			t.Errorf("Test %d (%s): not detected", i, tc.name)
		}
		got, err := decode(New(protocols.FlowInfo{}), tc.dir, data)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %q\ngot      %q", i, tc.name, tc.want, got)
		}
		for _, phi := range []string{"BED", "bed"} {
			if strings.Contains(strings.Join(got, "\n"), phi) {
				t.Errorf("Test %d (%s): bed label in %q", i, tc.name, got)
			}
		}
	}
}

// TestRepeat: an identical Connect Indication is emitted once per flow; a
// changed one again.
func TestRepeat(t *testing.T) {
	d := New(protocols.FlowInfo{})
	data := unhex(t, strip(connectIndication))
	for i, want := range []int{1, 0, 0} {
		data[20] = byte(i) // event_time differs: still a repeat
		got, err := decode(d, protocols.FromClient, data)
		if err != nil || len(got) != want {
			t.Errorf("Test %d: expected %d observations, got %q (err %v)", i, want, got, err)
		}
	}
	data[len(data)-3] = 0x2a // another port
	if got, _ := decode(d, protocols.FromClient, data); len(got) != 1 {
		t.Errorf("expected the changed indication decoded, got %q", got)
	}
}

var negatives = []struct {
	name, hex string
	err       bool
}{
	// HL7 over MLLP: 0x0B "MSH|^~\&|..."
	{"hl7", "0b4d53487c5e7e5c267c4d4f4e49544f527c4943557c7c7c32303234303130313132303030307c7c4f52555e5230317c317c507c322e360d1c0d", true},
	// HTTP request
	{"http", hex.EncodeToString([]byte("GET / HTTP/1.1\r\nHost: 192.168.1.10:24105\r\n\r\n")), true},
	// DNS query for example.com
	{"dns", "123401000001000000000000076578616d706c6503636f6d0000010001", true},
	// random bytes
	{"random", "9f3c71e2a05b88d4163e0cf2a9b4d75e", true},
	// connect indication header with an attribute running past the list
	{"attribute over list", "0000010000010018000000000012002300000000000a2c000d1700040001000009860010", true},
	// session connect without the IEEE 1073 presentation context
	{"connect without context", "0d0405081301", true},
	// a lone byte
	{"short", "0d", true},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if Detect(protocols.FromClient, data) || Detect(protocols.FromServer, data) {
			t.Errorf("Test %d (%s): detected", i, tc.name)
		}
		got, err := decode(New(protocols.FlowInfo{}), protocols.FromClient, data)
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected nothing, got %q", i, tc.name, got)
		}
		if (err != nil) != tc.err {
			t.Errorf("Test %d (%s): expected error %v, got %v", i, tc.name, tc.err, err)
		}
		if err != nil && protocols.Reason(err) == "other" {
			t.Errorf("Test %d (%s): error %v wraps no sentinel", i, tc.name, err)
		}
	}
	big := make([]byte, MaxMessageLen+1)
	if _, err := decode(New(protocols.FlowInfo{}), protocols.FromClient, big); protocols.Reason(err) != "too_long" {
		t.Errorf("expected too_long for an oversized datagram, got %v", err)
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "intellivue" || s.Transport != protocols.UDP || s.Detect == nil || s.New == nil ||
		!reflect.DeepEqual(s.Ports, []uint16{24105, 24005}) {
		t.Errorf("unexpected spec %+v", s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add(unhex(f, strip(tc.hex)))
	}
	for _, tc := range negatives {
		f.Add(unhex(f, tc.hex))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		d := New(protocols.FlowInfo{})
		for range 2 {
			var obs []protocols.Observation
			err := d.Feed(protocols.FromServer, data, time.Time{}, func(o protocols.Observation) { obs = append(obs, o) })
			if err != nil {
				if len(obs) != 0 {
					t.Fatalf("error %v with observations %+v", err, obs)
				}
				if protocols.Reason(err) == "other" {
					t.Fatalf("error %v wraps no sentinel", err)
				}
			}
			if len(obs) > 1 {
				t.Fatalf("expected at most one observation, got %d", len(obs))
			}
			for _, o := range obs {
				if o.Protocol != "intellivue" || !strings.HasPrefix(o.Source, "intellivue.") || len(o.Facts) > 64 {
					t.Fatalf("bad observation %+v", o)
				}
				for _, fct := range o.Facts {
					if fct.Value == "" || len(fct.Value) > 128 {
						t.Fatalf("bad fact %q", fct)
					}
					for _, c := range []byte(fct.Value) {
						if c < 0x20 || c > 0x7e {
							t.Fatalf("unprintable fact %q", fct)
						}
					}
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	for _, name := range []string{"connect indication", "mds create"} {
		var data []byte
		for _, tc := range fixtures {
			if tc.name == name {
				data = unhex(b, strip(tc.hex))
			}
		}
		b.Run(strings.ReplaceAll(name, " ", "_")+"_repeated", func(b *testing.B) {
			d := New(protocols.FlowInfo{})
			n := 0
			emit := func(o protocols.Observation) { n += len(o.Facts) }
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromServer, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
		b.Run(strings.ReplaceAll(name, " ", "_")+"_first", func(b *testing.B) {
			n := 0
			emit := func(o protocols.Observation) { n += len(o.Facts) }
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := New(protocols.FlowInfo{}).Feed(protocols.FromServer, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
