// Command iomt-replaybench measures replay speed on a capture file: a bare
// loop that only reads the file and runs gopacket's DecodingLayerParser on
// every packet, and the sensor's whole packet path (decode, flows,
// reassembly, protocol decoders, inventory, anomaly detection) on the same
// file, as iomt-sensor replay runs it but with its events discarded instead
// of published. The two alternate for a few runs; it prints each run, the
// medians (packets/s, MB/s, wall and CPU time), their ratio and the
// process's peak RSS.
//
//	go run ./cmd/iomt-gencap -o /tmp/big.pcap -size 1GiB
//	go run ./cmd/iomt-replaybench /tmp/big.pcap
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/cmd/internal/gctune"
	"github.com/iomt-sensor/iomt-sensor/cmd/internal/protolist"
	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/sensor"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/decode"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

func main() {
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the sensor run to `FILE`")
	memprofile := flag.String("memprofile", "", "write the allocation profile of the process, after its first sensor run, to `FILE`")
	flag.IntVar(&runs, "runs", 5, "runs of each loop, alternated; medians are compared")
	flag.IntVar(&workers, "workers", sensor.DefaultWorkers(), "packet workers, as iomt-sensor replay --workers")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: iomt-replaybench [-runs N] [-workers N] [-cpuprofile FILE] [-memprofile FILE] CAPTURE (an Ethernet pcap, e.g. from iomt-gencap)")
	}
	flag.Parse()
	gctune.Apply() // as iomt-sensor does
	if flag.NArg() != 1 || runs < 1 || workers < 1 || workers > capture.MaxShards {
		flag.Usage()
		fmt.Fprintf(os.Stderr, "-runs must be at least 1, -workers between 1 and %d\n", capture.MaxShards)
		os.Exit(2)
	}
	profile, memProfile = *cpuprofile, *memprofile
	if memProfile != "" {
		// One rate for the whole process: the profile is scaled by the
		// rate in force when it is written, so changing it midway would
		// misstate every count. The bare loops' allocations show under
		// main.bare.
		runtime.MemProfileRate = 4096
	}
	if err := bench(flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "iomt-replaybench:", err)
		os.Exit(1)
	}
}

type result struct {
	packets, bytes uint64
	elapsed        time.Duration
	cpu            time.Duration // user and system time of the whole process
}

func (r result) String() string {
	s := r.elapsed.Seconds()
	return fmt.Sprintf("%d packets, %.0f MB in %.2fs (CPU %.2fs): %.0f packets/s, %.1f MB/s",
		r.packets, float64(r.bytes)/1e6, s, r.cpu.Seconds(), float64(r.packets)/s, float64(r.bytes)/1e6/s)
}

// cpuTime returns the user and system time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func bench(path string) error {
	fmt.Printf("file %s, GOMAXPROCS %d, %d workers, %d runs\n", path, runtime.GOMAXPROCS(0), workers, runs)
	// Warm the page cache so both loops read from memory.
	if _, err := bare(path); err != nil {
		return err
	}
	// Alternate the two loops, so that a busy spell of a shared machine
	// hits both, and compare medians.
	var bs, ss []result
	var assets int
	for i := range runs {
		b, err := bare(path)
		if err != nil {
			return err
		}
		runtime.GC()
		s, n, err := full(path, i == 0)
		if err != nil {
			return err
		}
		runtime.GC()
		bs, ss, assets = append(bs, b), append(ss, s), n
		fmt.Printf("run %d: bare %.2fs, sensor %.2fs (CPU %.2fs), ratio %.2f\n", i+1, b.elapsed.Seconds(), s.elapsed.Seconds(), s.cpu.Seconds(), b.elapsed.Seconds()/s.elapsed.Seconds())
	}
	b, s := median(bs), median(ss)
	fmt.Printf("bare loop (read + DecodingLayerParser), median: %v\n", b)
	fmt.Printf("sensor (decode, flows, reassembly, decoders, inventory, anomalies), median: %v, %d assets\n", s, assets)
	fmt.Printf("ratio sensor/bare (medians): %.2f\n", b.elapsed.Seconds()/s.elapsed.Seconds())
	fmt.Printf("peak RSS: %s\n", peakRSS())
	return nil
}

// median returns the run with the median wall time.
func median(rs []result) result {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.elapsed, b.elapsed) })
	return rs[len(rs)/2]
}

func bare(path string) (result, error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		return result{}, err
	}
	defer src.Close()
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	var r result
	start, cpu := time.Now(), cpuTime()
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return r, err
		}
		_ = parser.DecodeLayers(p.Data, &decoded)
		r.packets++
		r.bytes += uint64(len(p.Data))
	}
	r.elapsed, r.cpu = time.Since(start), cpuTime()-cpu
	return r, nil
}

var (
	profile, memProfile string
	workers, runs       int
)

// full runs the sensor over the file, profiling the run if asked and first.
func full(path string, first bool) (result, int, error) {
	file, err := capture.OpenFiles([]string{path}, nil) // as iomt-sensor replay does
	if err != nil {
		return result{}, 0, err
	}
	srcs := capture.PrefetchShards(file, workers, decode.FlowHash)
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	if profile != "" && first {
		f, err := os.Create(profile)
		if err != nil {
			return result{}, 0, err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	fp, err := fingerprint.New(fingerprint.Defaults()...)
	if err != nil {
		return result{}, 0, err
	}
	// The anomaly detector and its wiring as iomt-sensor replay has them;
	// events and anomalies go nowhere instead of to NATS.
	det := anomaly.New("bench", time.Minute, func(anomaly.Anomaly) {})
	inv := inventory.New(inventory.Config{Sensor: "bench", Fingerprint: fp}, func(ev inventory.Event) {
		for _, adv := range ev.Asset.Advisories {
			det.Vulnerable(ev.Time, ev.Asset.ID, adv.ID, adv.Severity, adv.Source)
		}
	})
	ws := sensor.NewWorkers(workers, sensor.Config{Anomalies: det}, protolist.Specs(), inv) // every decoder, as iomt-sensor replay
	start, cpu := time.Now(), cpuTime()
	if err := sensor.RunAll(context.Background(), srcs, ws); err != nil {
		return result{}, 0, err
	}
	inv.Flush(ws[0].Now())
	r := result{elapsed: time.Since(start), cpu: cpuTime() - cpu}
	for _, w := range ws {
		r.packets += w.Stats().Packets.Load()
		r.bytes += w.Stats().Bytes.Load()
	}
	if memProfile != "" && first {
		f, err := os.Create(memProfile)
		if err != nil {
			return result{}, 0, err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return result{}, 0, err
		}
	}
	return r, len(inv.Assets()), nil
}

// peakRSS reads the high-water mark of resident memory from /proc.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
