package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"rules", "check", "testdata/rules/site.yaml"}, &out, &errOut); code != 0 {
		t.Fatalf("site.yaml: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "site.yaml: ok") {
		t.Errorf("expected ok, got %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"rules", "check", "testdata/rules/broken.yaml"}, &out, &errOut); code != 1 {
		t.Fatalf("broken.yaml: expected exit 1, got %d", code)
	}
	for _, want := range []string{"broken.yaml:6:", "equal", "broken.yaml:16:", "imaging.xx", "broken.yaml:17:", "weight"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("expected %q in the report:\n%s", want, errOut.String())
		}
	}
}

// TestUserRules: a rule file given with --rules changes a classification,
// an owner and an advisory without a rebuild; the advisory raises
// known_vulnerable, which carries the asset's owner.
func TestUserRules(t *testing.T) {
	dir := t.TempDir()
	inv, events := filepath.Join(dir, "inventory.json"), filepath.Join(dir, "events.jsonl")
	_, stderr, code := replay(t, "--nats", "off", "--rules", "testdata/rules/site.yaml", "--inventory", inv, "--events", events, captures+"dicom-store.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ct map[string]any
	for _, a := range readInventory(t, inv) {
		if a.ID == "mac:44:4b:5d:77:00:29" {
			if a.Model != "Revolution Apex 128 (stroke unit)" {
				t.Errorf("expected the site rule's model, got %q", a.Model)
			}
			if a.Owner == nil || a.Owner.Responsible != "radiology-biomed" {
				t.Errorf("expected the site owner, got %+v", a.Owner)
			}
			if len(a.Advisories) != 1 || a.Advisories[0].ID != "SITE-2026-001" || a.Risk <= 0.5 {
				t.Errorf("expected advisory SITE-2026-001 and a high risk, got %+v risk %.2f", a.Advisories, a.Risk)
			}
			ct = map[string]any{"found": true}
		}
	}
	if ct == nil {
		t.Fatal("no CT asset")
	}
	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Subject string `json:"subject"`
			Payload struct {
				Type  string            `json:"type"`
				Asset string            `json:"asset"`
				Owner map[string]any    `json:"owner"`
				Det   map[string]string `json:"details"`
			} `json:"payload"`
		}
		json.Unmarshal(sc.Bytes(), &line)
		if line.Payload.Type == "known_vulnerable" && line.Payload.Asset == "mac:44:4b:5d:77:00:29" {
			found = true
			if !strings.HasSuffix(line.Subject, ".anomaly.high") || line.Payload.Det["advisory"] != "SITE-2026-001" {
				t.Errorf("unexpected known_vulnerable event %s", sc.Text())
			}
			if line.Payload.Owner["responsible"] != "radiology-biomed" {
				t.Errorf("expected the anomaly to carry the asset's owner, got %v", line.Payload.Owner)
			}
		}
	}
	if !found {
		t.Error("expected a known_vulnerable anomaly")
	}
}

func TestExplain(t *testing.T) {
	var out, errOut bytes.Buffer
	err := explainCmd(context.Background(), []string{"mac:44:4b:5d:77:00:29", captures + "dicom-store.pcap"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	for _, want := range []string{"imaging.ct", "dicom.manufacturer", "GE MEDICAL SYSTEMS", "source:", "owner: responsible htm"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("expected %q in:\n%s", want, out.String())
		}
	}
	if err := explainCmd(context.Background(), []string{"mac:00:00:00:00:00:01", captures + "dicom-store.pcap"}, &out, &errOut); err == nil {
		t.Error("expected an error for an unknown asset")
	}
}
