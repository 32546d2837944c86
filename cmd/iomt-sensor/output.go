package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

var csvHeader = []string{"id", "mac", "ips", "hostnames", "vendor", "model", "os", "category", "medical", "protocols", "services", "first_seen", "last_seen"}

// printInventory writes assets in the chosen format.
func printInventory(w io.Writer, format string, assets []inventory.Asset) error {
	switch format {
	case "json":
		return writeAssets(w, assets)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(csvHeader)
		for _, a := range assets {
			cw.Write(assetRow(a))
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ASSET\tIP\tHOSTNAME\tVENDOR\tMODEL\tCATEGORY\tOWNER\tPROTOCOLS\tSERVICES\tLAST SEEN")
	for _, a := range assets {
		r := assetRow(a)
		owner := ""
		if a.Owner != nil {
			owner = a.Owner.Responsible
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r[0], dash(r[2]), dash(r[3]), dash(r[4]), dash(r[5]), dash(r[7]), dash(owner), dash(r[9]), dash(r[10]), r[12])
	}
	fmt.Fprintf(tw, "\n%d assets\n", len(assets))
	return tw.Flush()
}

func assetRow(a inventory.Asset) []string {
	var services []string
	for _, s := range a.Services {
		v := s.Transport + "/" + strconv.Itoa(int(s.Port))
		if s.Protocol != "" {
			v += "(" + s.Protocol + ")"
		}
		services = append(services, v)
	}
	return []string{a.ID, a.MAC, strings.Join(a.IPs, " "), strings.Join(a.Hostnames, " "), a.Vendor, a.Model, a.OS,
		a.Category, strconv.FormatBool(a.Medical), strings.Join(a.Protocols, " "), strings.Join(services, " "),
		a.FirstSeen, a.LastSeen}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// assetsPerChunk is how many assets an encoding goroutine of writeAssets
// takes at a time: a few hundred kilobytes of JSON.
const assetsPerChunk = 64

// writeAssets writes assets as an indented JSON array, byte for byte as a
// json.Encoder indenting by two spaces would, but a chunk of assets at a
// time: the whole document of a large inventory is never in memory at once.
// Chunks are encoded on one goroutine per core, each with two buffers it
// reuses: one it encodes into while the writer writes the other.
func writeAssets(w io.Writer, assets []inventory.Asset) error {
	if len(assets) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	chunks := (len(assets) + assetsPerChunk - 1) / assetsPerChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	type encoded struct {
		b   []byte
		err error
	}
	// Worker k encodes chunks k, k+workers, ... into buffers from free[k]
	// and hands them over in order on out[k].
	out := make([]chan encoded, workers)
	free := make([]chan []byte, workers)
	stop := make(chan struct{})
	defer close(stop)
	for k := range out {
		out[k] = make(chan encoded, 1)
		free[k] = make(chan []byte, 2)
		free[k] <- nil
		free[k] <- nil
		go func() {
			var compact bytes.Buffer
			enc := json.NewEncoder(&compact)
			for c := k; c < chunks; c += workers {
				var e encoded
				select {
				case e.b = <-free[k]:
				case <-stop:
					return
				}
				if c == 0 {
					e.b = append(e.b, "[\n"...)
				}
				for i := c * assetsPerChunk; i < min((c+1)*assetsPerChunk, len(assets)) && e.err == nil; i++ {
					compact.Reset()
					if e.err = enc.Encode(&assets[i]); e.err == nil {
						e.b = append(e.b, "  "...)
						e.b = appendIndented(e.b, bytes.TrimSuffix(compact.Bytes(), []byte("\n")), "  ", "  ")
						if i < len(assets)-1 {
							e.b = append(e.b, ',')
						}
						e.b = append(e.b, '\n')
					}
				}
				if c == chunks-1 {
					e.b = append(e.b, "]\n"...)
				}
				select {
				case out[k] <- e:
				case <-stop:
					return
				}
			}
		}()
	}
	for c := range chunks {
		e := <-out[c%workers]
		if e.err != nil {
			return e.err
		}
		if _, err := w.Write(e.b); err != nil {
			return err
		}
		free[c%workers] <- e.b[:0]
	}
	return nil
}

// appendIndented appends src, compact JSON as json.Marshal writes it, to
// dst indented as json.MarshalIndent(v, prefix, indent) would. It only
// looks at the bytes between strings, and skips strings with IndexByte:
// several times faster than json.Indent, which steps a scanner per byte.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	margins := []byte("\n" + prefix) // a newline and the margin of the deepest level yet
	newline := func() {
		for n := 1 + len(prefix) + depth*len(indent); len(margins) < n; {
			margins = append(margins, indent...)
		}
		dst = append(dst, margins[:1+len(prefix)+depth*len(indent)]...)
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			end := i + 1
			for {
				end += bytes.IndexByte(src[end:], '"')
				escapes := 0
				for src[end-1-escapes] == '\\' {
					escapes++
				}
				if escapes%2 == 0 {
					break
				}
				end++
			}
			dst = append(dst, src[i:end+1]...)
			i = end
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1]) // {} and [] stay on one line
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// writeInventoryFile writes the inventory JSON array to path.
func writeInventoryFile(path string, assets []inventory.Asset) error {
	if assets == nil {
		assets = []inventory.Asset{}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--inventory: %w", err)
	}
	if err := writeAssets(f, assets); err != nil {
		f.Close()
		return fmt.Errorf("--inventory %s: %w", path, err)
	}
	return f.Close()
}

// startProgress draws a progress line on a terminal until the returned
// function is called. The fraction is estimated from the bytes of packets
// read against the files' sizes (exact for uncompressed pcap).
func startProgress(term *os.File, files []string, read func() capture.Stats) func() {
	var total int64
	for _, name := range files {
		if fi, err := os.Stat(name); err == nil && !strings.HasSuffix(name, ".gz") {
			total += fi.Size()
		} else {
			total = 0
			break
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		started := time.Now()
		for {
			select {
			case <-done:
				fmt.Fprint(term, "\r\033[K")
				return
			case <-tick.C:
			}
			st := read()
			pkts, bytes := st.Packets, st.Bytes
			rate := float64(pkts) / time.Since(started).Seconds()
			line := fmt.Sprintf("%d packets, %.1f MB, %.0f packets/s", pkts, float64(bytes)/1e6, rate)
			if total > 0 {
				frac := min(float64(bytes+16*pkts+24)/float64(total), 1)
				const width = 30
				n := int(frac * width)
				line = fmt.Sprintf("[%s%s] %3.0f%% %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, line)
			}
			fmt.Fprint(term, "\r\033[K"+line)
		}
	}()
	return func() { close(done); wg.Wait() }
}
