package gencap

// Kind is the application protocol of one generated flow.
type Kind uint8

// Flow kinds, in the order Stats reports them.
const (
	KindARP Kind = iota
	KindDHCP
	KindDNS
	KindTLS
	KindHTTP
	KindDICOM
	KindHL7
	KindSMB
	NumKinds
)

var kindNames = [NumKinds]string{"arp", "dhcp", "dns", "tls", "http", "dicom", "hl7", "smb"}

// String returns the short protocol name of k.
func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return "unknown"
}

// endpoint is one side of a flow. mac is the link-layer address frames to
// and from it carry: the host's own MAC, or the gateway's for a public IP.
type endpoint struct {
	mac  macAddr
	ip   ip4
	port uint16
	host int // local host that owns mac
	ttl  byte
}

type tcpState uint8

const (
	stSyn tcpState = iota
	stSynAck
	stAck
	stData
	stFin1 // closer: FIN+ACK
	stFin2 // peer: ACK
	stFin3 // peer: FIN+ACK
	stFin4 // closer: ACK
	stRst
	stDone
)

// chunk kinds: literal bytes from the flow arena, or filler.
const (
	chunkLit = iota
	chunkRand
	chunkText
)

type chunk struct {
	off, n int32
	kind   uint8
}

// message is a run of application bytes sent by one side.
type message struct {
	from int // 0 client, 1 server
	n    int
}

// flow is one conversation. Flows are recycled; their slices keep their
// capacity so that steady-state generation does not allocate.
type flow struct {
	kind     Kind
	cli, srv endpoint
	step     int
	xid      uint32
	aux      int // kind-specific: target host, remote index, ...
	answer   bool

	st         tcpState
	seq        [2]uint32
	tsBase     [2]uint32
	lastTS     [2]uint32
	win        [2]uint16
	wscale     [2]byte
	ipid       [2]uint16
	msgs       []message
	chunks     []chunk
	arena      []byte
	mi, moff   int
	ci, co     int
	unacked    int
	pendingAck int // side that owes an ACK, or -1
	rst        bool
	closer     int
	fillSeed   int
}

func (f *flow) reset() {
	f.step, f.aux, f.answer = 0, 0, false
	f.st = stSyn
	f.msgs = f.msgs[:0]
	f.chunks = f.chunks[:0]
	f.arena = f.arena[:0]
	f.mi, f.moff, f.ci, f.co, f.unacked = 0, 0, 0, 0, 0
	f.pendingAck = -1
	f.rst = false
	f.closer = 0
}

// begin starts (or continues) a message from side from.
func (f *flow) begin(from int) {
	if n := len(f.msgs); n == 0 || f.msgs[n-1].from != from {
		f.msgs = append(f.msgs, message{from: from})
	}
}

// lit records arena bytes from start to the end as a literal chunk of the
// current message.
func (f *flow) lit(start int) {
	n := len(f.arena) - start
	if n <= 0 {
		return
	}
	f.msgs[len(f.msgs)-1].n += n
	if k := len(f.chunks); k > 0 {
		c := &f.chunks[k-1]
		if c.kind == chunkLit && int(c.off+c.n) == start {
			c.n += int32(n)
			return
		}
	}
	f.chunks = append(f.chunks, chunk{off: int32(start), n: int32(n), kind: chunkLit})
}

// fill appends n filler bytes of the given kind to the current message.
func (f *flow) fill(n int, kind uint8) {
	if n <= 0 {
		return
	}
	f.msgs[len(f.msgs)-1].n += n
	f.chunks = append(f.chunks, chunk{n: int32(n), kind: kind})
}

// appendStr is lit for a string.
func (f *flow) appendStr(s string) {
	start := len(f.arena)
	f.arena = append(f.arena, s...)
	f.lit(start)
}

// copyOut copies the next len(dst) bytes of the flow's stream into dst.
func (f *flow) copyOut(dst []byte, rnd, text []byte) {
	for len(dst) > 0 {
		c := &f.chunks[f.ci]
		take := int(c.n) - f.co
		if take > len(dst) {
			take = len(dst)
		}
		switch c.kind {
		case chunkLit:
			s := int(c.off) + f.co
			copy(dst[:take], f.arena[s:s+take])
		case chunkRand:
			p := (f.fillSeed + f.co) & fillMask
			copy(dst[:take], rnd[p:p+take])
		default:
			p := (f.fillSeed + f.co) & fillMask
			copy(dst[:take], text[p:p+take])
		}
		dst = dst[take:]
		f.co += take
		if f.co == int(c.n) {
			f.ci++
			f.co = 0
		}
	}
}
