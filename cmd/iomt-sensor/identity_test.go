package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// TestPhones: the inventory of the corpus's whole-phone captures names each
// phone's OS family and host name.
func TestPhones(t *testing.T) {
	dir := capturetest.Dir(t)
	tests := []struct {
		file, id, os, category, hostname string
	}{
		{"device-mixed/ndpi-android.pcap", "mac:4c:6a:f6:9f:f6:27", "Android", "it.phone", ""}, // sends no host name
		{"device-mixed/ndpi-iphone.pcap", "mac:c4:61:8b:35:82:a9", "iOS", "it.phone", "Lucas-iPhone"},
	}
	for i, tc := range tests {
		inv := filepath.Join(t.TempDir(), "inventory.json")
		if _, stderr, code := replay(t, "--nats", "off", "--inventory", inv, filepath.Join(dir, tc.file)); code != 0 {
			t.Fatalf("Test %d: exit %d: %s", i, code, stderr)
		}
		var found bool
		for _, a := range readInventory(t, inv) {
			if a.ID != tc.id {
				continue
			}
			found = true
			if a.OS != tc.os || a.Category != tc.category {
				t.Errorf("Test %d: %s: expected %s %s, got %q %q", i, tc.id, tc.os, tc.category, a.OS, a.Category)
			}
			if tc.hostname != "" && (len(a.Hostnames) == 0 || a.Hostnames[0] != tc.hostname) {
				t.Errorf("Test %d: %s: expected host name %s, got %v", i, tc.id, tc.hostname, a.Hostnames)
			}
		}
		if !found {
			t.Errorf("Test %d: no asset %s", i, tc.id)
		}
	}
}

// TestCorpusIdentities replays corpus and testdata captures and compares the
// identity of every asset (vendor, model, OS, category, medical, owner) with
// a reviewed golden file; go test -update rewrites it.
func TestCorpusIdentities(t *testing.T) {
	dir := capturetest.Dir(t)
	files := []string{
		filepath.Join(dir, "device-mixed/ndpi-android.pcap"),
		filepath.Join(dir, "device-mixed/ndpi-iphone.pcap"),
		filepath.Join(dir, "dicom/ndpi-dicom.pcap"),
		filepath.Join(dir, "hl7/ndpi-hl7.pcap"),
		filepath.Join(dir, "lldp-cdp/tcpdump-LLDP_and_CDP.pcap"),
		filepath.Join(dir, "dhcp/tcpdump-dhcp-mud.pcap"),
		filepath.Join(dir, "snmp/zeek-snmpwalk-short.pcap"),
		filepath.Join(dir, "http/ndpi-ipp.pcap"),
		captures + "dicom-store.pcap",
		captures + "dicom-reject.pcap",
		captures + "hl7-mllp.pcap",
		captures + "clinic.pcap",
		captures + "identity-lldp.pcap",
		captures + "identity-snmp.pcap",
		captures + "identity-mdns.pcap",
	}
	var out bytes.Buffer
	for _, f := range files {
		inv := filepath.Join(t.TempDir(), "inventory.json")
		if _, stderr, code := replay(t, "--nats", "off", "--sensor", "test", "--inventory", inv, f); code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		fmt.Fprintf(&out, "== %s\n", filepath.Base(f))
		for _, a := range readInventory(t, inv) {
			owner := ""
			if a.Owner != nil {
				owner = a.Owner.Responsible
			}
			row, _ := json.Marshal(struct {
				ID, Vendor, Model, OS, Category string
				Medical                         bool
				Owner                           string
				Hostnames                       []string
			}{a.ID, a.Vendor, a.Model, a.OS, a.Category, a.Medical, owner, a.Hostnames})
			out.Write(row)
			out.WriteByte('\n')
		}
	}
	golden := "testdata/golden/corpus-identities.txt"
	if *update {
		os.WriteFile(golden, out.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("identities differ from %s; review with go test -update and git diff", golden)
	}
}
