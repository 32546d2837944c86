package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReadmeFirstCommand runs the newcomer's first command from README.md,
// with its built-in defaults (the embedded NATS server), and compares the
// printed inventory with the one README.md shows.
func TestReadmeFirstCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "go run ./cmd/iomt-sensor "
	text := string(readme)
	i := strings.Index(text, "```sh\n"+prefix)
	if i < 0 {
		t.Fatal("README.md has no `go run ./cmd/iomt-sensor` command")
	}
	line := text[i+len("```sh\n"):]
	line = line[:strings.IndexByte(line, '\n')]
	args := strings.Fields(strings.TrimPrefix(line, prefix))
	for j, a := range args {
		if strings.HasPrefix(a, "testdata/") {
			args[j] = "../../" + a
		}
	}
	// The sample output is the next ``` block.
	rest := text[i+len("```sh\n")+len(line):]
	rest = rest[strings.Index(rest, "```")+len("```"):] // the command block's end
	start := strings.Index(rest, "```\n") + len("```\n")
	end := strings.Index(rest[start:], "```")
	want := rest[start : start+end]

	var out, errOut bytes.Buffer
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("%s: exit %d: %s", line, code, errOut.String())
	}
	if out.String() != want {
		t.Errorf("README.md shows:\n%s\nthe command prints:\n%s", want, out.String())
	}
}
