package cache

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/miekg/dns"
)

// memEntries is how many RRsets TestBytesPerEntry inserts: enough that
// per-entry costs dwarf fixed ones.
const memEntries = 100_000

// aSet returns the one-A RRset of host i.
func aSet(i int) RRset {
	name := fmt.Sprintf("host%d.example.org.", i)
	return RRset{RRs: []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
		A:   net.IPv4(192, 0, 2, byte(i)).To4(),
	}}, Rank: RankAnswerAuth}
}

// nsSet returns the four-NS RRset of zone i.
func nsSet(i int) RRset {
	name := fmt.Sprintf("zone%d.example.", i)
	rrs := make([]dns.RR, 4)
	for j := range rrs {
		rrs[j] = &dns.NS{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 86400},
			Ns:  fmt.Sprintf("ns%d.zone%d.example.", j+1, i),
		}
	}
	return RRset{RRs: rrs, Rank: RankAuthorityNonAuth}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestBytesPerEntry measures the heap bytes per cached RRset and checks
// that the weigher's estimate, which the byte budget relies on, is within a
// factor of two of it.
func TestBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 100k entries")
	}
	tests := []struct {
		name   string
		insert func(*testing.T, *Cache, int)
	}{
		{"one A", func(t *testing.T, c *Cache, i int) { mustInsert(t, c, aSet(i)) }},
		{"four NS", func(t *testing.T, c *Cache, i int) { mustInsert(t, c, nsSet(i)) }},
		// Negative entries of one zone share its SOA (and the RRSIG
		// over it): each keeps only its own NSEC and RRSIG.
		{"NXDOMAIN", func(t *testing.T, c *Cache, i int) { mustInsertNegative(t, c, i, false) }},
		{"NXDOMAIN signed", func(t *testing.T, c *Cache, i int) { mustInsertNegative(t, c, i, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{MaxBytes: 1 << 30})
			before := heapAlloc()
			for i := range memEntries {
				// The cache keeps copies, and the owner name string
				// they share with the input: that is part of the cost.
				tt.insert(t, c, i)
			}
			after := heapAlloc()
			c.store.CleanUp()
			st := c.Stats()
			if st.Entries != memEntries {
				t.Fatalf("%d entries, want %d", st.Entries, memEntries)
			}
			measured := float64(after-before) / memEntries
			estimated := float64(st.Bytes) / memEntries
			t.Logf("%s: %.0f bytes/entry measured (heap), %.0f estimated by the weigher", tt.name, measured, estimated)
			if estimated < measured/2 || estimated > measured*2 {
				t.Errorf("weigher estimate %.0f not within 2x of measured %.0f bytes/entry", estimated, measured)
			}
			runtime.KeepAlive(c)
		})
	}
}

func TestByteBoundEvicts(t *testing.T) {
	const inserts = 2000 // about 700 KB of A sets against a 64 KiB budget
	c, _ := newTestCache(t, Config{MaxBytes: minMaxBytes})
	for i := range inserts {
		mustInsert(t, c, aSet(i))
	}
	c.store.CleanUp()
	st := c.Stats()
	if st.Bytes > minMaxBytes {
		t.Errorf("Bytes = %d, above the %d budget", st.Bytes, minMaxBytes)
	}
	if st.Evictions == 0 || st.Entries >= inserts {
		t.Errorf("Evictions = %d, Entries = %d; want evictions and fewer than %d entries", st.Evictions, st.Entries, inserts)
	}
	if got := uint64(st.Entries) + st.Evictions; got != inserts {
		t.Errorf("Entries + Evictions = %d, want %d", got, inserts)
	}
}

// mustInsertNegative caches an NXDOMAIN for host i of example.org, as an
// unsigned zone gives it (the SOA alone) or as a signed one does (the SOA,
// its RRSIG and an NSEC with its RRSIG), every record with names and
// signatures of the sizes a real zone has.
func mustInsertNegative(t *testing.T, c *Cache, i int, signed bool) {
	t.Helper()
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns: "ns1.example.org.", Mbox: "hostmaster.example.org.", Serial: 2026120501, Refresh: 7200,
		Retry: 3600, Expire: 1209600, Minttl: 3600}
	sig := func(owner string, covered uint16) *dns.RRSIG {
		return &dns.RRSIG{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
			TypeCovered: covered, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(dns.CountLabel(owner)),
			OrigTtl: 3600, Expiration: 1767225600, Inception: 1764547200, KeyTag: 12345, SignerName: "example.org.",
			Signature: strings.Repeat("A", 88)} // 64 bytes, an ECDSA P-256 signature
	}
	var proof []dns.RR
	if signed {
		owner := fmt.Sprintf("host%d.example.org.", i)
		proof = []dns.RR{sig("example.org.", dns.TypeSOA),
			&dns.NSEC{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
				NextDomain: fmt.Sprintf("host%d0.example.org.", i), TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
			sig(owner, dns.TypeNSEC)}
	}
	name := fmt.Sprintf("host%da.example.org.", i)
	if _, err := c.InsertNegative(name, dns.TypeA, dns.ClassINET,
		Negative{Kind: NXDomain, SOA: soa, Proof: proof, Rank: RankAnswerAuth}); err != nil {
		t.Fatal(err)
	}
}

// nsecZones and nsecPerZone: TestNSECBytesPerRecord learns 100,000
// records, under maxNSECPerZone in each zone.
const (
	nsecZones   = 25
	nsecPerZone = 4000
)

// TestNSECBytesPerRecord measures the heap bytes per record of the NSEC
// store (RFC 8198): a signed NSEC learnt from a negative answer, as the
// resolver hands it over (its own strings, as a message unpacks them), and
// checks the weigher's estimate is within a factor of two of it.
func TestNSECBytesPerRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("learns 100k records")
	}
	c, _ := newTestCache(t, Config{MaxBytes: 1 << 30, NSECBytes: 1 << 30})
	sig := func(owner, zone string) *dns.RRSIG {
		return &dns.RRSIG{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
			TypeCovered: dns.TypeNSEC, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(dns.CountLabel(owner)),
			OrigTtl: 3600, Expiration: 1767225600, Inception: 1764547200, KeyTag: 12345, SignerName: strings.Clone(zone),
			Signature: strings.Repeat("A", 88)} // 64 bytes, an ECDSA P-256 signature
	}
	before := heapAlloc()
	for z := range nsecZones {
		zone := fmt.Sprintf("zone%d.example.", z)
		for i := range nsecPerZone {
			owner := fmt.Sprintf("host%d.%s", i, zone)
			proof := []dns.RR{
				&dns.NSEC{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
					NextDomain: fmt.Sprintf("host%d0.%s", i, zone), TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
				sig(owner, zone)}
			c.LearnNSEC(zone, nil, proof)
		}
	}
	after := heapAlloc()
	n, bytes, _ := c.nsec.stats()
	if n != nsecZones*nsecPerZone {
		t.Fatalf("%d records, want %d", n, nsecZones*nsecPerZone)
	}
	measured := float64(after-before) / float64(n)
	estimated := float64(bytes) / float64(n)
	t.Logf("signed NSEC: %.0f bytes/record measured (heap), %.0f estimated by the weigher", measured, estimated)
	if estimated < measured/2 || estimated > measured*2 {
		t.Errorf("weigher estimate %.0f not within 2x of measured %.0f bytes/record", estimated, measured)
	}
	runtime.KeepAlive(c)
}

// TestEntrySize keeps an entry at 64 bytes, a size class of Go's
// allocator: one field more and every cached RRset costs 80.
func TestEntrySize(t *testing.T) {
	if got := unsafe.Sizeof(entry{}); got != 64 {
		t.Errorf("entry is %d bytes, want 64", got)
	}
}
