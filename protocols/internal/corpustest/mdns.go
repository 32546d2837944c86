package corpustest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// CheckDepsAllowing is CheckDeps for a decoder that also builds on other
// decoder packages (mdns parses messages with protocols/dns): the import
// paths in allowed are accepted besides the standard library and the
// protocols contract package. Anything they import is checked the same way.
func CheckDepsAllowing(tb testing.TB, allowed ...string) {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go command not on PATH")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		tb.Fatalf("go list -deps: %v", err)
	}
	self, err := exec.Command(goCmd, "list", ".").Output()
	if err != nil {
		tb.Fatalf("go list: %v", err)
	}
	const contract = "github.com/iomt-sensor/iomt-sensor/protocols"
	for _, dep := range strings.Fields(string(out)) {
		if dep != contract && dep != strings.TrimSpace(string(self)) && !slices.Contains(allowed, dep) {
			tb.Errorf("decoder imports %s: decoders may import only the standard library, %s and %v", dep, contract, allowed)
		}
	}
}
