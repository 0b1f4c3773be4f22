package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
)

// CacheStatser gives the resolver cache's counters; *resolver.Resolver
// satisfies it.
type CacheStatser interface {
	CacheStats() cache.Stats
}

// Metrics are the server's Prometheus metrics, on a registry of their own.
// A nil *Metrics records nothing. It implements resolver.Metrics.
type Metrics struct {
	reg       *prometheus.Registry
	queries   *prometheus.CounterVec
	qcounters sync.Map // qlabel -> prometheus.Counter, so the hot path does not hash label strings
	drops     *prometheus.CounterVec
	servfails *prometheus.CounterVec
	upstream  *prometheus.CounterVec
	rtt       *prometheus.HistogramVec
	lookups   *prometheus.CounterVec
	inflightG prometheus.Gauge
	// udpWait is how long UDP queries sat in the listening socket's
	// queue, from the kernel's receive stamp to the reader (udp.go).
	udpWait   prometheus.Histogram
	inflightN atomic.Int64 // what inflightG shows, for the parts collector
	// overloadCached counts queries answered from the resolver's cache
	// while every resolution slot was taken.
	overloadCached prometheus.Counter
	// shedFull and shedBacklog count misses shed (missesShed), by reason.
	shedFull, shedBacklog prometheus.Counter
	cacheSrc              atomic.Value // cacheSource
	pc                    atomic.Pointer[packetCache]
	pool                  atomic.Pointer[missPool]
}

var _ resolver.Metrics = (*Metrics)(nil)

type cacheSource struct{ s CacheStatser }

// unwantedCounter is implemented by *resolver.Resolver: replies with the
// wrong ID or question, and threshold trips.
type unwantedCounter interface {
	UnwantedReplies() (total, trips uint64)
}

var _ unwantedCounter = (*resolver.Resolver)(nil)

type qlabel struct {
	qtype     uint16
	rcode     int
	transport Transport
	cached    bool
}

// rttBuckets span loopback (well under a millisecond) to the far side of
// the world with retries (seconds).
var rttBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// udpWaitBuckets span a reader that keeps up (tens of microseconds) to
// one that is far behind: maxUDPQueueDelay (50 ms) sheds misses, and a
// hit the kernel held for a second is as good as lost.
var udpWaitBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// NewMetrics returns metrics registered on a new private registry, along
// with the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.queries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_queries_total", Help: "Queries answered, by question type, response code, transport and whether the packet cache answered.",
	}, []string{"type", "rcode", "transport", "cached"})
	m.drops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_queries_dropped_total", Help: "Queries dropped without a reply, by reason.",
	}, []string{"reason"})
	m.servfails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_servfail_total", Help: "Resolutions that ended in SERVFAIL, by reason.",
	}, []string{"reason"})
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_upstream_queries_total", Help: "Queries sent to authoritative servers, by transport and outcome.",
	}, []string{"transport", "outcome"})
	m.rtt = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "addrwalk_upstream_rtt_seconds", Help: "Round-trip time of upstream queries.", Buckets: rttBuckets,
	}, []string{"transport"})
	m.lookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_resolver_cache_lookups_total",
		Help: "Questions the resolver asked its cache (the client's, and each CNAME target, NS address, DS or DNSKEY a resolution needs), by result: " +
			"hit (a fresh answer, positive, negative or synthesised from NSEC), stale (RFC 8767 stale data) or miss (the question went upstream). " +
			"This is the one count of cache hits and misses.",
	}, []string{"result"})
	m.overloadCached = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "addrwalk_overload_cache_answers_total", Help: "Queries answered from the resolver cache while every resolution slot was taken.",
	})
	shed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "addrwalk_misses_shed_total",
		Help: "Cache misses not resolved, by reason: full (no slot for it: the server's waiting misses, the client's share of them, or the miss pool's queue) or backlog (it waited too long in the socket's and the pool's queues); each was answered from the resolver's cache when it held the data, else SERVFAIL.",
	}, []string{"reason"})
	m.shedFull, m.shedBacklog = shed.WithLabelValues("full"), shed.WithLabelValues("backlog")
	m.inflightG = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "addrwalk_resolutions_in_flight", Help: "Resolutions running now.",
	})
	m.udpWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "addrwalk_udp_queue_wait_seconds",
		Help:    "Time UDP queries waited in the listening socket's receive queue, from the kernel's receive time stamp to the reader (Linux only).",
		Buckets: udpWaitBuckets,
	})
	stat := func(f func(cache.Stats) float64) func() float64 {
		return func() float64 {
			src, _ := m.cacheSrc.Load().(cacheSource)
			if src.s == nil {
				return 0
			}
			return f(src.s.CacheStats())
		}
	}
	unwanted := func(f func(total, trips uint64) float64) func() float64 {
		return func() float64 {
			src, _ := m.cacheSrc.Load().(cacheSource)
			if u, ok := src.s.(unwantedCounter); ok {
				return f(u.UnwantedReplies())
			}
			return 0
		}
	}
	pcStat := func(f func(*packetCache) float64) func() float64 {
		return func() float64 {
			if pc := m.pc.Load(); pc != nil {
				return f(pc)
			}
			return 0
		}
	}
	const workersHelp = "Miss pool workers by state: busy (handed a miss: running it or about to) or idle (waiting for one; a worker exits after 5 s idle)."
	poolStat := func(f func(queued, busy, idle int) float64) func() float64 {
		return func() float64 {
			if p := m.pool.Load(); p != nil {
				return f(p.stats())
			}
			return 0
		}
	}
	m.reg.MustRegister(shed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_miss_queue_length", Help: "Cache misses waiting in the miss pool's queue for a worker."},
			poolStat(func(queued, _, _ int) float64 { return float64(queued) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_miss_workers", Help: workersHelp, ConstLabels: prometheus.Labels{"state": "busy"}},
			poolStat(func(_, busy, _ int) float64 { return float64(busy) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_miss_workers", Help: workersHelp, ConstLabels: prometheus.Labels{"state": "idle"}},
			poolStat(func(_, _, idle int) float64 { return float64(idle) })),
	)
	m.reg.MustRegister(m.queries, m.drops, m.servfails, m.upstream, m.rtt, m.lookups, m.inflightG, m.overloadCached, m.udpWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "addrwalk_cache_evictions_total", Help: "Resolver cache entries evicted to stay within budget."},
			stat(func(s cache.Stats) float64 { return float64(s.Evictions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_cache_entries", Help: "Resolver cache entries."},
			stat(func(s cache.Stats) float64 { return float64(s.Entries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_cache_bytes", Help: "Approximate bytes held by the resolver cache."},
			stat(func(s cache.Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "addrwalk_unwanted_replies_total", Help: "Upstream replies with the wrong ID or question (forgery guesses or late replies); ignored."},
			unwanted(func(total, _ uint64) float64 { return float64(total) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "addrwalk_unwanted_reply_threshold_trips_total", Help: "Times the unwanted replies reached the threshold and the cache was flushed."},
			unwanted(func(_, trips uint64) float64 { return float64(trips) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "addrwalk_packet_cache_hits_total", Help: "Queries answered from the packet cache."},
			pcStat(func(c *packetCache) float64 { return float64(c.hits.Load()) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "addrwalk_packet_cache_misses_total", Help: "Packet cache lookups that found nothing live."},
			pcStat(func(c *packetCache) float64 { return float64(c.misses.Load()) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "addrwalk_packet_cache_entries", Help: "Replies held by the packet cache."},
			pcStat(func(c *packetCache) float64 { return float64(c.len()) })),
		newPartsCollector(m),
	)
	return m
}

// InflightBytes estimates what one resolution in flight holds: under a
// flood with simulated latency, 300 resolutions in flight held 900
// goroutines (11.8 MB of stacks) and some 8 MB of heap, about 66 KB each
// (#11). Resolutions are bounded by [server] max-inflight, not by the cache
// budget; the metrics report them beside the budget's parts as
// cache.PartInflight, and serve's memory limit counts this much per slot.
const InflightBytes = 64 << 10

// partsCollector reports the entries and bytes of each part of the one
// memory budget (cache.SplitBudget): the resolver's (rrset, negative,
// failure, nsec, infra) and the packet cache; and beside them the
// resolutions in flight, which max-inflight bounds.
type partsCollector struct {
	m              *Metrics
	entries, bytes *prometheus.Desc
}

func newPartsCollector(m *Metrics) partsCollector {
	return partsCollector{m: m,
		entries: prometheus.NewDesc("addrwalk_cache_part_entries",
			"Entries held by each part of the cache memory budget (nsec: records; infra: servers; inflight: resolutions running, outside the budget; the others: RRsets or replies).", []string{"part"}, nil),
		bytes: prometheus.NewDesc("addrwalk_cache_part_bytes",
			"Approximate heap bytes held by each part of the cache memory budget ([cache] size); inflight is an estimate per resolution running, bounded by [server] max-inflight instead.", []string{"part"}, nil),
	}
}

func (pc partsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pc.entries
	ch <- pc.bytes
}

func (pc partsCollector) Collect(ch chan<- prometheus.Metric) {
	var parts []cache.PartStats
	if src, _ := pc.m.cacheSrc.Load().(cacheSource); src.s != nil {
		parts = src.s.CacheStats().Parts
	}
	if p := pc.m.pc.Load(); p != nil {
		parts = append(parts, p.part())
	}
	n := max(pc.m.inflightN.Load(), 0)
	parts = append(parts, cache.PartStats{Part: cache.PartInflight, Entries: int(n), Bytes: uint64(n) * InflightBytes})
	for _, p := range parts {
		ch <- prometheus.MustNewConstMetric(pc.entries, prometheus.GaugeValue, float64(p.Entries), p.Part)
		ch <- prometheus.MustNewConstMetric(pc.bytes, prometheus.GaugeValue, float64(p.Bytes), p.Part)
	}
}

// Registry returns the private registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// HTTPHandler serves the metrics in the Prometheus exposition format.
func (m *Metrics) HTTPHandler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// SetCacheSource sets where cache counters come from (the resolver; after
// a reload, the new one, which shares the cache).
func (m *Metrics) SetCacheSource(s CacheStatser) {
	if m == nil {
		return
	}
	m.cacheSrc.Store(cacheSource{s})
}

func (m *Metrics) setPacketCache(pc *packetCache) {
	if m != nil {
		m.pc.Store(pc)
	}
}

// UpstreamQuery implements resolver.Metrics.
func (m *Metrics) UpstreamQuery(transport string, rtt time.Duration, outcome string) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(transport, outcome).Inc()
	m.rtt.WithLabelValues(transport).Observe(rtt.Seconds())
}

// CacheLookup implements resolver.Metrics.
func (m *Metrics) CacheLookup(result string) {
	if m == nil {
		return
	}
	switch result {
	case "hit", "stale", "miss":
	default:
		result = "other" // keep the label set fixed
	}
	m.lookups.WithLabelValues(result).Inc()
}

// query counts one answered query.
func (m *Metrics) query(qtype uint16, rcode int, transport Transport, cached bool) {
	if m == nil {
		return
	}
	// The key holds the labels' values, not the raw numbers: keyed by
	// every type number a client sends (or every RCODE an upstream
	// returns), the map would grow to millions of entries for one
	// series each (#11's table audit).
	if !commonType(qtype) {
		qtype = dns.TypeNone
	}
	if !knownRcode(rcode) {
		rcode = otherRcode
	}
	k := qlabel{qtype, rcode, transport, cached}
	c, ok := m.qcounters.Load(k)
	if !ok {
		rs := "other"
		if rcode != otherRcode {
			rs = rcodeString(rcode)
		}
		cs := "false"
		if cached {
			cs = "true"
		}
		c, _ = m.qcounters.LoadOrStore(k, m.queries.WithLabelValues(typeLabel(qtype), rs, transport.String(), cs))
	}
	c.(prometheus.Counter).Inc()
}

// otherRcode stands for every RCODE outside RFC 6895's table in the
// queries counter.
const otherRcode = -1

// knownRcode says whether rc has a name of its own in the queries
// counter: the RCODEs of RFC 6895's registry (0 to 23); any other value
// an upstream server sends is counted as "other".
func knownRcode(rc int) bool {
	_, ok := dns.RcodeToString[rc]
	return ok || rc == rcodeBadVers
}

// commonType says whether t gets a type label of its own.
func commonType(t uint16) bool {
	switch t {
	case dns.TypeA, dns.TypeNS, dns.TypeCNAME, dns.TypeSOA, dns.TypePTR, dns.TypeMX, dns.TypeTXT,
		dns.TypeAAAA, dns.TypeSRV, dns.TypeNAPTR, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC,
		dns.TypeDNSKEY, dns.TypeNSEC3, dns.TypeTLSA, dns.TypeSVCB, dns.TypeHTTPS, dns.TypeANY, dns.TypeCAA:
		return true
	}
	return false
}

// typeLabel bounds the type label to common types, so a client sending
// every type number cannot grow the metric without bound.
func typeLabel(t uint16) string {
	if commonType(t) {
		return dns.TypeToString[t]
	}
	return "other"
}

func (m *Metrics) dropped(reason string) {
	if m != nil {
		m.drops.WithLabelValues(reason).Inc()
	}
}

// udpQueued records how long a UDP query waited in the socket's queue.
func (m *Metrics) udpQueued(d time.Duration) {
	if m != nil {
		m.udpWait.Observe(d.Seconds())
	}
}

// shedFromCache counts a query answered from the resolver's cache because
// no resolution slot was free.
func (m *Metrics) shedFromCache() {
	if m != nil {
		m.overloadCached.Inc()
	}
}

// setMissPool makes p the pool the miss metrics report (the Server's).
func (m *Metrics) setMissPool(p *missPool) {
	if m != nil {
		m.pool.Store(p)
	}
}

// missShed counts a miss that was not resolved (Handler.shed): reason is
// reasonBacklog, or reasonOverload, reported as "full".
func (m *Metrics) missShed(reason string) {
	switch {
	case m == nil:
	case reason == reasonBacklog:
		m.shedBacklog.Inc()
	default:
		m.shedFull.Inc()
	}
}

func (m *Metrics) servfail(reason string) {
	if m != nil {
		m.servfails.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) inflight(d float64) {
	if m != nil {
		m.inflightG.Add(d)
		m.inflightN.Add(int64(d))
	}
}
