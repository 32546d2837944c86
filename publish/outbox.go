package publish

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Message classes, in the order they are dropped when the outbox is full:
// asset.update first, anomalies last.
const (
	classUpdate = iota
	classNew
	classHealth
	classAnomaly
	numClasses
)

// classOf ranks a subject for eviction. Unknown subjects rank with
// asset.new.
func classOf(subj string) uint8 {
	switch {
	case strings.HasSuffix(subj, ".asset.update"):
		return classUpdate
	case strings.HasSuffix(subj, ".health"):
		return classHealth
	case strings.Contains(subj, ".anomaly."):
		return classAnomaly
	}
	return classNew
}

// On-disk record layout (little endian):
//
//	u32 body length | u32 CRC-32C of body | body
//	body: i64 accepted (unix ns) | u8 class | u16 len | subject | u16 len | id | data
const (
	recHeader   = 8
	recFixed    = 8 + 1 + 2 + 2
	maxRecord   = 16 << 20 // cap on a body length read back from disk
	maxTokenLen = 1<<16 - 1
	readChunk   = 256 << 10
	segSuffix   = ".seg"
	cursorFile  = "cursor"
)

var (
	errShortRecord   = errors.New("record incomplete")
	errCorruptRecord = errors.New("record corrupt")
)

func castagnoli(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// entry is one message on its way: accepted time and, in outbox mode,
// its place and size on disk.
type entry struct {
	msg   Message
	at    int64 // unix ns when Publish accepted it
	class uint8
	pos   loc
	size  int64 // bytes on disk; 0 when not from the outbox
}

// loc is a record's position: segment id and byte offset.
type loc struct {
	seg uint64
	off int64
}

func (a loc) less(b loc) bool { return a.seg < b.seg || (a.seg == b.seg && a.off < b.off) }

func recordSize(m Message) int64 {
	return int64(recHeader + recFixed + len(m.Subject) + len(m.ID) + len(m.Data))
}

// appendRecord encodes e at the end of dst.
func appendRecord(dst []byte, e entry) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recHeader)...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.at))
	dst = append(dst, e.class)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(e.msg.Subject)))
	dst = append(dst, e.msg.Subject...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(e.msg.ID)))
	dst = append(dst, e.msg.ID...)
	dst = append(dst, e.msg.Data...)
	body := dst[start+recHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], castagnoli(body))
	return dst
}

// parseRecord decodes the record at the start of b and returns its total
// size. errShortRecord means b holds only n bytes of a record that needs
// more; errCorruptRecord means the bytes are not a record.
func parseRecord(b []byte) (e entry, n int, err error) {
	if len(b) < recHeader {
		return e, recHeader, errShortRecord
	}
	l := binary.LittleEndian.Uint32(b)
	if l < recFixed || l > maxRecord {
		return e, 0, fmt.Errorf("%w: body length %d", errCorruptRecord, l)
	}
	n = recHeader + int(l)
	if len(b) < n {
		return e, n, errShortRecord
	}
	body := b[recHeader:n]
	if castagnoli(body) != binary.LittleEndian.Uint32(b[4:]) {
		return e, 0, fmt.Errorf("%w: CRC mismatch", errCorruptRecord)
	}
	e.at = int64(binary.LittleEndian.Uint64(body))
	e.class = body[8]
	rest := body[9:]
	sl := int(binary.LittleEndian.Uint16(rest))
	if sl+2 > len(rest) || e.class >= numClasses {
		return e, 0, fmt.Errorf("%w: bad subject", errCorruptRecord)
	}
	e.msg.Subject = string(rest[2 : 2+sl])
	rest = rest[2+sl:]
	if len(rest) < 2 {
		return e, 0, fmt.Errorf("%w: bad id", errCorruptRecord)
	}
	il := int(binary.LittleEndian.Uint16(rest))
	if il+2 > len(rest) {
		return e, 0, fmt.Errorf("%w: bad id", errCorruptRecord)
	}
	e.msg.ID = string(rest[2 : 2+il])
	e.msg.Data = slices.Clone(rest[2+il:])
	e.size = int64(n)
	return e, n, nil
}

// segment is one append-only file of records.
type segment struct {
	id    uint64
	size  int64             // bytes written
	count [numClasses]int   // records by class (for eviction)
	bytes [numClasses]int64 // their bytes
}

// outbox is the on-disk queue: segment files in a directory, oldest
// first. One goroutine appends, the sender reads in order; both under mu.
type outbox struct {
	dir      string
	maxBytes int64
	maxAge   time.Duration
	segSize  int64
	log      *zap.Logger

	mu     sync.Mutex
	segs   []*segment // oldest first; the last one is open for appending
	w      *os.File
	wbuf   []byte
	closed bool

	rIdx    int   // segment of the next record to read
	rOff    int64 // its offset
	rf      *os.File
	rbuf    []byte
	rbufOff int64 // offset in segs[rIdx] of rbuf[0]

	ack loc // records before it are settled (saved in the cursor file)

	liveBytes, liveMsgs          int64 // not yet settled or dropped
	droppedBound, droppedExpired uint64
	kept                         int64 // live records found at open
}

// segSizeFor picks a segment size: a sixteenth of the bound, so eviction
// works on small pieces, within [1 KiB, 8 MiB].
func segSizeFor(maxBytes int64) int64 { return min(max(maxBytes/16, 1<<10), 8<<20) }

func (o *outbox) segPath(id uint64) string {
	return filepath.Join(o.dir, fmt.Sprintf("%020d%s", id, segSuffix))
}

// openOutbox opens or creates dir, checks every record kept there (a
// torn or corrupt record ends its segment: the rest is cut off with a
// warning) and starts a new segment for appends.
func openOutbox(dir string, maxBytes int64, maxAge time.Duration, log *zap.Logger) (*outbox, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("publish: outbox directory: %w", err)
	}
	o := &outbox{dir: dir, maxBytes: maxBytes, maxAge: maxAge, segSize: segSizeFor(maxBytes), log: log.With(zap.String("outbox", dir))}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("publish: outbox directory: %w", err)
	}
	var ids []uint64
	for _, de := range ents {
		name := de.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name)) // an interrupted rewrite: the original is intact
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	o.ack = o.readCursor()
	next := o.ack.seg + 1 // new segments always come after the cursor
	for _, id := range ids {
		next = max(next, id+1)
		if id < o.ack.seg {
			os.Remove(o.segPath(id)) // settled before the last stop
			continue
		}
		from := int64(0)
		if id == o.ack.seg {
			from = o.ack.off
		}
		seg, err := o.scan(id, from)
		if err != nil {
			return nil, err
		}
		if seg == nil {
			continue
		}
		if len(o.segs) == 0 {
			o.rOff = from
		}
		o.segs = append(o.segs, seg)
	}
	o.kept = o.liveMsgs
	if err := o.newSegment(next); err != nil {
		return nil, err
	}
	if o.kept > 0 {
		o.log.Info("outbox holds events from the last run; sending them first", zap.Int64("events", o.kept), zap.Int64("bytes", o.liveBytes))
	}
	return o, nil
}

// scan checks segment id from offset from, counts its records and cuts
// off a torn or corrupt tail. It returns nil for an empty segment, which
// it removes.
func (o *outbox) scan(id uint64, from int64) (*segment, error) {
	path := o.segPath(id)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("publish: outbox: %w", err)
	}
	seg := &segment{id: id}
	off := 0
	if from > 0 && from <= int64(len(data)) {
		off = int(from)
	}
	for off < len(data) {
		e, n, err := parseRecord(data[off:])
		if err != nil {
			o.log.Warn("outbox segment ends with a torn or corrupt record (crash?); skipping the rest of it",
				zap.String("segment", filepath.Base(path)), zap.Int("offset", off), zap.Int("bytes_skipped", len(data)-off), zap.Error(err))
			if err := os.Truncate(path, int64(off)); err != nil {
				return nil, fmt.Errorf("publish: outbox: %w", err)
			}
			data = data[:off]
			break
		}
		seg.count[e.class]++
		seg.bytes[e.class] += int64(n)
		o.liveBytes += int64(n)
		o.liveMsgs++
		off += n
	}
	seg.size = int64(len(data))
	if seg.size == 0 {
		os.Remove(path)
		return nil, nil
	}
	return seg, nil
}

func (o *outbox) newSegment(id uint64) error {
	f, err := os.OpenFile(o.segPath(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("publish: outbox: %w", err)
	}
	o.w = f
	o.segs = append(o.segs, &segment{id: id})
	return nil
}

// rotate seals the segment being written (fsync) and starts the next one;
// it also saves the cursor.
func (o *outbox) rotate() error {
	if err := o.flush(); err != nil {
		return err
	}
	if err := o.w.Sync(); err != nil {
		return fmt.Errorf("publish: outbox: %w", err)
	}
	o.w.Close()
	o.writeCursor()
	return o.newSegment(o.segs[len(o.segs)-1].id + 1)
}

func (o *outbox) flush() error {
	if len(o.wbuf) == 0 {
		return nil
	}
	n, err := o.w.Write(o.wbuf)
	o.segs[len(o.segs)-1].size += int64(n)
	o.wbuf = o.wbuf[:0]
	if err != nil {
		return fmt.Errorf("publish: outbox: %w", err)
	}
	return nil
}

// append writes es in order, evicting older events of the same or a
// lower class when the bound would be exceeded; an event that finds no
// room is dropped. It returns how many were dropped.
func (o *outbox) append(es []entry) (dropped int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return len(es), ErrClosed
	}
	for _, e := range es {
		size := recordSize(e.msg)
		if !o.makeRoom(size, e.class) {
			o.droppedBound++
			dropped++
			continue
		}
		tail := o.segs[len(o.segs)-1]
		if cur := tail.size + int64(len(o.wbuf)); cur > 0 && cur+size > o.segSize {
			if err := o.rotate(); err != nil {
				return dropped, err
			}
			tail = o.segs[len(o.segs)-1]
		}
		o.wbuf = appendRecord(o.wbuf, e)
		tail.count[e.class]++
		tail.bytes[e.class] += size
		o.liveBytes += size
		o.liveMsgs++
	}
	return dropped, o.flush()
}

// makeRoom evicts until size more bytes fit, dropping only events of
// class c or lower. It reports whether they fit.
func (o *outbox) makeRoom(size int64, c uint8) bool {
	if size > o.maxBytes {
		return false
	}
	for o.liveBytes+size > o.maxBytes {
		if !o.evictOne(c) {
			return false
		}
	}
	return true
}

// evictOne drops every record of the lowest class present (up to maxClass)
// from the oldest segment holding one, the segment being read excepted.
func (o *outbox) evictOne(maxClass uint8) bool {
	for c := range int(maxClass) + 1 {
		for i := o.rIdx + 1; i < len(o.segs); i++ {
			if o.segs[i].count[c] == 0 {
				continue
			}
			if i == len(o.segs)-1 {
				if err := o.rotate(); err != nil {
					o.log.Error("outbox rotate failed", zap.Error(err))
					return false
				}
			}
			o.dropClass(i, uint8(c))
			return true
		}
	}
	return false
}

// dropClass rewrites sealed segment i without its records of class c.
func (o *outbox) dropClass(i int, c uint8) {
	seg := o.segs[i]
	defer func() { seg.count[c], seg.bytes[c] = 0, 0 }() // never loop on a failing segment
	path := o.segPath(seg.id)
	data, err := os.ReadFile(path)
	if err != nil {
		o.log.Error("outbox eviction: reading segment", zap.Error(err))
		return
	}
	out := make([]byte, 0, len(data))
	var dropped, freed int64
	for off := 0; off < len(data); {
		e, n, err := parseRecord(data[off:])
		if err != nil {
			break
		}
		if e.class == c {
			dropped++
			freed += int64(n)
		} else {
			out = append(out, data[off:off+n]...)
		}
		off += n
	}
	if len(out) == 0 {
		if err := os.Remove(path); err != nil {
			o.log.Error("outbox eviction: removing segment", zap.Error(err))
			return
		}
		o.segs = slices.Delete(o.segs, i, i+1)
	} else if err := writeFileSync(path, out); err != nil {
		o.log.Error("outbox eviction: rewriting segment", zap.Error(err))
		return
	}
	seg.size = int64(len(out))
	o.liveBytes -= freed
	o.liveMsgs -= dropped
	o.droppedBound += uint64(dropped)
}

// writeFileSync replaces path by data atomically: temporary file, fsync,
// rename.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// peek returns the next unread record, skipping (and counting) expired
// ones. Callers hold mu.
func (o *outbox) peek(now int64) (entry, bool) {
	for !o.closed {
		seg := o.segs[o.rIdx]
		if o.rOff >= seg.size {
			if o.rIdx == len(o.segs)-1 {
				return entry{}, false
			}
			o.rIdx++
			o.rOff, o.rbuf, o.rbufOff = 0, o.rbuf[:0], 0
			if o.rf != nil {
				o.rf.Close()
				o.rf = nil
			}
			continue
		}
		e, err := o.readRecord(seg)
		if err != nil {
			o.log.Warn("outbox: unreadable record; skipping the rest of the segment",
				zap.Uint64("segment", seg.id), zap.Int64("offset", o.rOff), zap.Error(err))
			o.rOff = seg.size
			continue
		}
		e.pos = loc{seg.id, o.rOff}
		if o.maxAge > 0 && now-e.at > int64(o.maxAge) {
			o.rOff += e.size
			o.liveBytes -= e.size
			o.liveMsgs--
			o.droppedExpired++
			continue
		}
		return e, true
	}
	return entry{}, false
}

// readRecord reads the record at rOff of seg through rbuf.
func (o *outbox) readRecord(seg *segment) (entry, error) {
	if start := o.rOff - o.rbufOff; start >= 0 && start < int64(len(o.rbuf)) {
		e, _, err := parseRecord(o.rbuf[start:])
		if !errors.Is(err, errShortRecord) {
			return e, err
		}
	}
	if o.rf == nil {
		f, err := os.Open(o.segPath(seg.id))
		if err != nil {
			return entry{}, err
		}
		o.rf = f
	}
	want := min(seg.size-o.rOff, readChunk)
	for {
		if int64(cap(o.rbuf)) < want {
			o.rbuf = make([]byte, want)
		}
		o.rbuf = o.rbuf[:want]
		n, err := o.rf.ReadAt(o.rbuf, o.rOff)
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == want) {
			o.rbuf = o.rbuf[:0]
			return entry{}, err
		}
		o.rbufOff = o.rOff
		e, need, err := parseRecord(o.rbuf)
		if errors.Is(err, errShortRecord) && int64(need) > want && int64(need) <= seg.size-o.rOff {
			want = int64(need)
			continue
		}
		return e, err
	}
}

// next takes the next unread record.
func (o *outbox) next(now int64) (entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.peek(now)
	if ok {
		o.rOff += e.size
	}
	return e, ok
}

// expire drops expired records at the head of the unread ones and
// returns the accepted time of the oldest unread record (0 if none).
func (o *outbox) expire(now int64) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.peek(now)
	if !ok {
		return 0
	}
	return e.at
}

// dropExpired counts an event read from the outbox and then expired.
func (o *outbox) dropExpired(e entry) {
	o.mu.Lock()
	o.liveBytes -= e.size
	o.liveMsgs--
	o.droppedExpired++
	o.mu.Unlock()
}

// settled records that e was acknowledged or given up on, and that every
// record before pos is settled (pos nil: everything read so far). Fully
// settled segments are removed.
func (o *outbox) settled(e *entry, pos *loc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e != nil {
		o.liveBytes -= e.size
		o.liveMsgs--
	}
	if o.closed {
		return
	}
	p := loc{o.segs[o.rIdx].id, o.rOff}
	if pos != nil {
		p = *pos
	}
	o.ack = p
	for o.rIdx > 0 && o.segs[0].id < p.seg {
		if err := os.Remove(o.segPath(o.segs[0].id)); err != nil {
			o.log.Error("outbox: removing sent segment", zap.Error(err))
		}
		o.segs = o.segs[1:]
		o.rIdx--
	}
}

type outboxStats struct {
	bytes, msgs                  int64
	droppedBound, droppedExpired uint64
}

func (o *outbox) stats() outboxStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return outboxStats{o.liveBytes, o.liveMsgs, o.droppedBound, o.droppedExpired}
}

func (o *outbox) hasUnread(now int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.peek(now)
	return ok
}

func (o *outbox) readCursor() loc {
	b, err := os.ReadFile(filepath.Join(o.dir, cursorFile))
	if err != nil {
		return loc{}
	}
	var p loc
	if _, err := fmt.Sscanf(string(b), "%d %d\n", &p.seg, &p.off); err != nil || p.off < 0 {
		o.log.Warn("outbox cursor unreadable; resending the whole outbox (the server drops duplicates within its window)", zap.Error(err))
		return loc{}
	}
	return p
}

func (o *outbox) writeCursor() {
	path := filepath.Join(o.dir, cursorFile)
	if err := writeFileSync(path, fmt.Appendf(nil, "%d %d\n", o.ack.seg, o.ack.off)); err != nil {
		o.log.Error("outbox: saving cursor", zap.Error(err))
	}
}

// close flushes and syncs the last segment, saves the cursor and
// releases files. Unsent records stay for the next open.
func (o *outbox) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	err := o.flush()
	if serr := o.w.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("publish: outbox: %w", serr)
	}
	o.w.Close()
	if o.rf != nil {
		o.rf.Close()
	}
	o.closed = true
	if o.liveMsgs <= 0 && err == nil {
		// Everything was sent: leave an empty directory.
		for _, seg := range o.segs {
			if rerr := os.Remove(o.segPath(seg.id)); rerr != nil {
				o.log.Error("outbox: removing sent segment", zap.Error(rerr))
			}
		}
		os.Remove(filepath.Join(o.dir, cursorFile))
		return nil
	}
	if tail := o.segs[len(o.segs)-1]; tail.size == 0 {
		os.Remove(o.segPath(tail.id))
	}
	o.writeCursor()
	return err
}
