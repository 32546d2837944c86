// Command iomt-gencap writes a large, realistic pcap of a hospital network
// segment for replay benchmarks of the sensor.
//
//	iomt-gencap -o FILE [-size 1GiB] [-hosts 3000] [-seed 1]
//
// The output is deterministic for a given seed, size and host count.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/iomt-sensor/iomt-sensor/cmd/iomt-gencap/internal/gencap"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "iomt-gencap:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("iomt-gencap", flag.ContinueOnError)
	out := fs.String("o", "", "output pcap file (required)")
	size := fs.String("size", "1GiB", "file size to reach, e.g. 200MiB, 1GiB")
	hosts := fs.Int("hosts", 3000, "hosts on the segment")
	seed := fs.Uint64("seed", 1, "random seed; same seed, same capture")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("missing -o FILE")
	}
	n, err := gencap.ParseSize(*size)
	if err != nil {
		return err
	}
	cfg := gencap.Config{Size: n, Hosts: *hosts, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	st, err := gencap.Generate(f, cfg)
	if err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Print(st)
	return nil
}
