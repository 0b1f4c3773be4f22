package server

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// The packet cache keeps the wire form of recent replies so a repeated
// question is answered without unpacking, resolving or packing anything:
// the stored bytes are copied, the ID, flags and question (with the
// client's letter case) are patched in and the TTLs counted down. It sits
// in front of the resolver's own RRset cache, which outlives it.
const (
	// pcacheShards splits the table so concurrent readers rarely contend
	// on one lock; 64 is well above the cores of any machine we run on.
	pcacheShards = 64
	// DefaultPacketCacheEntries bounds the packet cache when the config
	// does not; its byte budget (cache.SplitBudget's Packets share)
	// usually binds first.
	DefaultPacketCacheEntries = 100_000
	// pentryOverhead approximates the heap bytes of an entry beyond its
	// wire bytes (the reply and its TTL offsets): the 64-byte pentry
	// struct, the map slot (a 64-bit hash and a pointer, with the map's
	// spare room) and allocation rounding (TestPacketCacheMemory measures
	// it: about 170 heap bytes per one-A reply, 64 of them the reply).
	pentryOverhead = 100
	// pcacheMaxReply is the largest reply kept: bigger ones are rare and
	// cheap enough to rebuild.
	pcacheMaxReply = 4096
	// pcacheMaxTTLs bounds the records of a kept reply (each has a TTL to
	// patch on every hit).
	pcacheMaxTTLs = 64
)

// pkey is the key of a packet cache entry: the lower-cased question plus
// DO and CD, which change the reply's contents.
func appendPKey(dst []byte, q *query) []byte {
	dst = appendLowerName(dst, q.qname)
	dst = binary.BigEndian.AppendUint16(dst, q.qtype)
	dst = binary.BigEndian.AppendUint16(dst, q.qclass)
	var f byte
	if q.do {
		f |= 1
	}
	if q.cd() {
		f |= 2
	}
	return append(dst, f)
}

// pentry is one kept reply. It is never changed after it is published.
// Its fields are ordered to keep it at 64 bytes (TestPEntrySize): the
// packet cache holds tens of thousands of them.
type pentry struct {
	// wire is the reply without OPT record (header, question, answer and
	// authority sections; ID, flags and TTLs are patched on use) in its
	// first n bytes, then the offsets of its records' TTL fields, two
	// bytes each (appendTTLOffsets). The TTLs in the reply are those at
	// insertion, no longer than the entry's life.
	wire []byte
	fail *pfail // a kept SERVFAIL's reasons; nil otherwise
	// inserted and expires are unix nanoseconds.
	inserted int64
	expires  int64
	n        uint32
	// qend is the offset just after the question section.
	qend uint16
	// flags to set in the header (AA for local data; the rest is echoed
	// from the query).
	flags uint16
	rcode uint8
	// keyFlags are the last byte of the key the entry is kept under (DO
	// and CD, appendPKey): with the question in wire, the whole key, which
	// a hit checks (the map is keyed by the key's hash only).
	keyFlags byte
	// secure is set when the resolver validated the whole answer: AD is
	// then set for clients that asked with DO or AD (RFC 6840 §5.7, §5.8).
	secure bool
	// prefetched is set once a refresh was started for this entry.
	prefetched atomic.Bool
}

// pfail is what a kept SERVFAIL says beyond its RCODE.
type pfail struct {
	ede    *edeInfo // its Extended DNS Errors
	reason string   // its resolver.Error.Reason, for the query log
}

// reply returns the reply e keeps, without its TTL offsets.
func (e *pentry) reply() []byte { return e.wire[:e.n] }

// ede returns the Extended DNS Errors of a kept SERVFAIL, or nil.
func (e *pentry) ede() *edeInfo {
	if e.fail == nil {
		return nil
	}
	return e.fail.ede
}

// reason returns the resolver's reason for a kept SERVFAIL, or "".
func (e *pentry) reason() string {
	if e.fail == nil {
		return ""
	}
	return e.fail.reason
}

// matches reports whether e is kept under key (appendPKey): its question
// is key's name, type and class, letter case aside, and its DO and CD
// are key's.
func (e *pentry) matches(key []byte) bool {
	q := e.wire[headerLen:e.qend]
	if len(key) != len(q)+1 || key[len(q)] != e.keyFlags {
		return false
	}
	// The key's name is lower-case; the question's may not be. Only the
	// name folds (its length octets are below 64, so they never do): the
	// type and class that follow it are numbers, and HTTPS (65) is an 'A'.
	name := len(q) - 4
	if name < 0 {
		return false
	}
	for i, c := range q[:name] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != key[i] {
			return false
		}
	}
	return string(q[name:]) == string(key[name:len(q)])
}

// appendTTLOffsets appends to wire, a reply, the offsets of its records'
// TTL fields, two bytes each, and returns it with the reply's length. It
// reports false when the reply does not parse.
func appendTTLOffsets(wire []byte) ([]byte, int, bool) {
	n := len(wire)
	ok := rrWalk(wire[:n], func(off int, _ uint16) { wire = binary.BigEndian.AppendUint16(wire, uint16(off)) })
	return wire, n, ok
}

// pshard is one shard of the packet cache. Its map is keyed by the
// 64-bit hash of an entry's key, not by the key: the key is the question
// the entry's reply holds anyway (pentry.matches), and a string key would
// cost its bytes, an allocation and a wider map slot per entry. A hash
// that two keys share (once in 2^64 pairs, with a seed drawn at start)
// keeps one of the two entries and answers the other question as a miss.
type pshard struct {
	mu    sync.RWMutex // guards m, bytes and deleted
	m     map[uint64]*pentry
	bytes int64 // the weights of m's entries
	// deleted counts the entries deleted from m since it was made. A Go
	// map never shrinks, and the slots that deletions free are reused
	// slowly: under eviction churn a shard's map grew to four slots per
	// entry held. put rebuilds the map once pcacheRebuildAfter times as
	// many entries as it holds were deleted.
	deleted int
}

// pcacheRebuildAfter is how many times its entries a shard's map may lose
// before it is rebuilt (pshard.deleted): 1 copies one entry per deletion,
// and TestPacketCacheMemory measured 170 heap bytes per one-A reply with
// it against 180 with 2 and 194 without rebuilds.
const pcacheRebuildAfter = 1

// failOverhead and edeOverhead approximate the heap bytes a failure
// entry holds besides its wire form: its pfail (24 bytes in the 32-byte
// size class) and each edeInfo (40 bytes in the 48-byte class) besides
// its text. A failure entry holds two edeInfo, and the reason's text
// names the zone and the next probe, so it is not shared: a dead-zone
// flood's entries held 5.6 MB of such texts outside the weights (#11).
const (
	failOverhead = 32
	edeOverhead  = 48
)

// weight approximates the heap bytes of e in the cache. The Extended DNS
// Errors of a failure entry are counted (structs and text; the constant
// "Cached Error" text is counted too, which errs on the heavy side by
// its 43 bytes).
func (e *pentry) weight() int64 {
	w := int64(pentryOverhead + cap(e.wire))
	if e.fail != nil {
		w += failOverhead
		for x := e.fail.ede; x != nil; x = x.next { // two at most: newFailEntry's chain
			w += edeOverhead + int64(len(x.text))
		}
	}
	return w
}

// packetCache is a bounded map of replies (bounded.go).
type packetCache struct {
	seed          maphash.Seed
	perShard      int   // entries
	perShardBytes int64 // bytes
	shards        [pcacheShards]pshard
	hits          atomic.Uint64
	misses        atomic.Uint64
	bytes         atomic.Int64 // the shards' bytes, for the metrics
}

// newPacketCache returns a packet cache of at most entries replies and
// about maxBytes bytes; 0 means the defaults (DefaultPacketCacheEntries,
// cache.SplitBudget(0).Packets).
func newPacketCache(entries int, maxBytes int64) *packetCache {
	if entries <= 0 {
		entries = DefaultPacketCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = cache.SplitBudget(0).Packets
	}
	c := &packetCache{seed: maphash.MakeSeed(), perShard: max(1, entries/pcacheShards),
		perShardBytes: max(maxBytes/pcacheShards, pcacheMaxReply+pentryOverhead)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*pentry)
	}
	return c
}

// hash returns the hash of key and the shard it belongs to.
func (c *packetCache) hash(key []byte) (uint64, *pshard) {
	h := maphash.Bytes(c.seed, key)
	return h, &c.shards[h%pcacheShards]
}

// get returns the live entry for key at now.
func (c *packetCache) get(key []byte, now int64) *pentry {
	h, s := c.hash(key)
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e == nil || now >= e.expires || !e.matches(key) {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

// put stores e under key, evicting arbitrary entries (Go's map iteration
// order is random) while the shard is over its entries or bytes. e must
// not be published yet: put records key's flags in it.
func (c *packetCache) put(key []byte, e *pentry) {
	if len(key) == 0 {
		return
	}
	e.keyFlags = key[len(key)-1]
	w := e.weight()
	h, s := c.hash(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[h]; ok {
		delete(s.m, h)
		s.drop(c, old.weight())
	}
	// Each round removes one entry, so the loop ends with the map.
	for len(s.m) > 0 && (len(s.m) >= c.perShard || s.bytes+w > c.perShardBytes) {
		for k, old := range s.m {
			delete(s.m, k)
			s.drop(c, old.weight())
			break
		}
	}
	s.m[h] = e
	s.bytes += w
	c.bytes.Add(w)
	if s.deleted > pcacheRebuildAfter*len(s.m)+pcacheShardFloor {
		m := make(map[uint64]*pentry, len(s.m))
		for k, e := range s.m {
			m[k] = e
		}
		s.m, s.deleted = m, 0
	}
}

// pcacheShardFloor is added to the deletions a shard's map may see before
// a rebuild, so that a nearly empty shard is not rebuilt every few puts.
const pcacheShardFloor = 64

// drop accounts for an entry of weight w deleted from s.
func (s *pshard) drop(c *packetCache, w int64) {
	s.bytes -= w
	s.deleted++
	c.bytes.Add(-w)
}

// flush empties the cache.
func (c *packetCache) flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.m = make(map[uint64]*pentry)
		c.bytes.Add(-s.bytes)
		s.bytes, s.deleted = 0, 0
		s.mu.Unlock()
	}
}

// len returns the number of entries.
func (c *packetCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// part returns the size of the cache as a part of the memory budget.
func (c *packetCache) part() cache.PartStats {
	return cache.PartStats{Part: cache.PartPacket, Entries: c.len(), Bytes: uint64(max(c.bytes.Load(), 0))}
}

// ttlClamps bound the lifetime of kept replies, as the resolver's cache
// bounds its RRsets.
type ttlClamps struct {
	min, max, maxNeg time.Duration
}

// newPEntry builds an entry from a reply we packed (without OPT), or
// returns nil when it should not be kept.
func newPEntry(wire []byte, flags uint16, rcode int, secure bool, now time.Time, cl ttlClamps) *pentry {
	if len(wire) > pcacheMaxReply || (rcode != rcodeNoError && rcode != rcodeNXDomain) {
		return nil
	}
	var offs [pcacheMaxTTLs]uint16
	records := 0
	minTTL := uint32(1<<31 - 1)
	negative := rcode == rcodeNXDomain || binary.BigEndian.Uint16(wire[6:]) == 0
	tooMany := false
	ok := rrWalk(wire, func(off int, _ uint16) {
		if records == len(offs) {
			tooMany = true
			return
		}
		offs[records] = uint16(off)
		records++
		minTTL = min(minTTL, binary.BigEndian.Uint32(wire[off:]))
	})
	if !ok || tooMany || records == 0 || minTTL == 0 {
		// Nothing to time the entry by (a NODATA without SOA), too many
		// records, or TTL 0 data that must not be kept.
		return nil
	}
	life := time.Duration(minTTL) * time.Second
	if cl.min > 0 {
		life = max(life, cl.min)
	}
	if negative && cl.maxNeg > 0 {
		life = min(life, cl.maxNeg)
	}
	if cl.max > 0 {
		life = min(life, cl.max)
	}
	life = life.Truncate(time.Second)
	if life <= 0 {
		return nil
	}
	// One allocation: the reply, then its TTL offsets. The TTLs we hand
	// out never exceed the lifetime.
	lifeSec := uint32(life / time.Second)
	buf := make([]byte, len(wire)+2*records)
	copy(buf, wire)
	for i, off := range offs[:records] {
		if binary.BigEndian.Uint32(buf[off:]) > lifeSec {
			binary.BigEndian.PutUint32(buf[off:], lifeSec)
		}
		binary.BigEndian.PutUint16(buf[len(wire)+2*i:], off)
	}
	e := &pentry{wire: buf, n: uint32(len(wire)), qend: headerLen, flags: flags, rcode: uint8(rcode), secure: secure}
	if q, err := skipName(wire, headerLen); err == nil && q+4 <= len(wire) {
		e.qend = uint16(q + 4)
	}
	e.inserted = now.UnixNano()
	e.expires = e.inserted + int64(life)
	return e
}

// newFailEntry keeps a SERVFAIL for the question name/qtype/qclass for
// life, the time the resolver's own failure cache refuses to retry it
// (RFC 9520), so repeats are answered here at packet-cache speed. ede is
// the reason; "Cached Error" is added after it. Under a second, nothing
// is kept.
func newFailEntry(name string, qtype, qclass uint16, ede *edeInfo, reason string, life time.Duration, now time.Time) *pentry {
	life = life.Truncate(time.Second)
	if life <= 0 {
		return nil
	}
	wire := make([]byte, headerLen, headerLen+len(name)+6)
	binary.BigEndian.PutUint16(wire[4:], 1) // QDCOUNT
	wire = append(wire, make([]byte, len(name)+2)...)
	n, err := dns.PackDomainName(dns.CanonicalName(name), wire, headerLen, nil, false)
	if err != nil {
		return nil
	}
	wire = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(wire[:n], qtype), qclass)
	cached := &edeInfo{code: dns.ExtendedErrorCodeCachedError, text: "failed recently; not retried yet (RFC 9520)"}
	if ede != nil && ede.code != dns.ExtendedErrorCodeCachedError {
		cached = &edeInfo{code: ede.code, text: ede.text, next: cached}
	}
	e := &pentry{wire: wire, n: uint32(len(wire)), qend: uint16(len(wire)), rcode: rcodeServFail,
		fail: &pfail{ede: cached, reason: reason}, inserted: now.UnixNano()}
	e.expires = e.inserted + int64(life)
	return e
}

// appendReply appends the reply e makes to q at now, without OPT.
func (e *pentry) appendReply(dst []byte, q *query, now int64) []byte {
	start := len(dst)
	dst = append(dst, e.wire[:e.n]...)
	out := dst[start:]
	binary.BigEndian.PutUint16(out, q.id)
	f := flagQR | flagRA | q.flags&(opcodeMask|flagRD|flagCD) | e.flags | uint16(e.rcode&rcodeMask)
	// AD only for validated data, to clients that asked for it (DO or
	// AD, RFC 6840 §5.7), and not when they disabled checking (CD): then
	// nothing was vouched for on their behalf.
	if e.secure && (q.do || q.flags&flagAD != 0) && q.flags&flagCD == 0 {
		f |= flagAD
	}
	binary.BigEndian.PutUint16(out[2:], f)
	// The question, with the client's letter case; it has the same length
	// because the key matched.
	copy(out[headerLen:e.qend], q.question)
	elapsed := uint32((now - e.inserted) / int64(time.Second))
	offs := e.wire[e.n:]
	for i := 0; i+1 < len(offs); i += 2 {
		off := binary.BigEndian.Uint16(offs[i:])
		t := binary.BigEndian.Uint32(e.wire[off:])
		if t > elapsed {
			t -= elapsed
		} else {
			t = 0
		}
		binary.BigEndian.PutUint32(out[off:], t)
	}
	return dst
}

// wantsPrefetch reports, once per entry, whether the entry is in the last
// tenth of its life and should be refreshed in the background (Unbound's
// prefetch rule).
func (e *pentry) wantsPrefetch(now int64) bool {
	if (e.expires-now)*10 > e.expires-e.inserted || e.prefetched.Load() {
		return false
	}
	return e.prefetched.CompareAndSwap(false, true)
}
