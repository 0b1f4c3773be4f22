// Package server is addrwalk's local recursive DNS server: the query path
// (Handler), the UDP and TCP listeners, access control, rate limiting,
// local data, a packet cache in front of the resolver, Prometheus metrics
// and debug endpoints.
//
// The query path is transport independent: Handler.Handle takes the raw
// bytes of a query, the client's address and the transport and returns the
// raw bytes of the reply. The listeners and the conformance runner drive
// exactly that path.
//
// Standards implemented at the server edge:
//
//   - RFC 1034/1035: message format, RD/RA, QR=1 queries dropped,
//     FORMERR for malformed queries, NOTIMP for opcodes other than QUERY,
//     TC=1 and 512-octet UDP replies without EDNS (RFC 1035 §4.2.1);
//   - RFC 6891: EDNS(0), the OPT record echoed with our payload size,
//     BADVERS for unknown versions, replies truncated to the smaller of
//     the client's and our payload size;
//   - RFC 3225 and RFC 4035 §3.2.1: the DO bit; without it RRSIG, NSEC
//     and NSEC3 records are left out unless the question asked for them;
//   - RFC 6840 §5.7-5.8: AD set on answers the resolver validated, for
//     clients that asked with DO or AD;
//   - RFC 8914: Extended DNS Errors on SERVFAIL and REFUSED replies;
//   - RFC 7766: DNS over TCP with pipelining and out-of-order replies;
//     a malformed frame closes the connection, a no-progress timer that
//     only valid queries reset closes stalled ones (slowloris, empty
//     frames), connections are bounded in total and per client address,
//     and the idle connection with the oldest progress is closed to make
//     room (tcp.go: the stream rules any stream transport reuses;
//     conntable.go: the bounds);
//   - RFC 2308: negative answers carry the SOA; TTLs of cached replies
//     count down;
//   - RFC 8767: stale answers from the resolver carry the Stale Answer
//     Extended DNS Error and are not kept in the packet cache;
//   - draft-vixie-dnsext-dns0x20: the question is echoed with the exact
//     letter case the client sent.
//
// Overload (overload.go): resolutions are bounded in total
// (HandlerConfig.MaxInflight; when all are busy a newcomer takes the slot
// of the oldest resolution past HandlerConfig.JostleTimeout among those
// that started while half were busy: jostle.go, Unbound's jostle-timeout),
// queries waiting on them in total and per
// client address (Config.MaxPendingPerClient); shedding applies to cache
// misses only: a query that finds no slot is still answered from the
// resolver's cache when it holds the data, and gets SERVFAIL with an
// "overloaded" Extended DNS Error only otherwise. Packet-cache hits are
// answered on the listener's goroutine and never wait for a slot. Misses
// of the UDP, TCP, DoT and DoH listeners run on a pool of worker goroutines
// fed by a queue of the server's own (misspool.go), not on a goroutine
// each, and a miss goes to a worker only while fewer goroutines wait for
// a CPU than there are Ps: under a CPU-starved flood misses wait in that
// queue rather than in Go's run queue, ahead of the readers that answer
// hits. The UDP socket's queue, which
// hits and misses share, gets a large receive buffer, and a miss that
// waited in it (and the pool's queue) past a bound is shed rather than
// resolved, so the reader catches up (udpqueue.go).
// Refusals to clients outside the allow list (refuse.go) are no larger
// than the query over UDP and rate-limited per network. Queries over the
// per-network rate limit (ratelimit.go) are dropped over UDP, except every
// Slip-th, which gets an empty TC=1 reply so real clients retry over TCP
// (rrl.go: RRL slip, as BIND, NSD and Knot).
//
// A packet cache (pcache.go) in front of the resolver keeps the wire form
// of recent replies: a repeated question is answered by copying bytes and patching
// the ID, flags, question case and TTLs, with no allocation. The resolver's
// own cache, which outlives configuration reloads, stays the source of
// truth; Handler.Reload swaps settings (resolver, access lists, local
// data) atomically, and a query whose resolver the swap closed is put to
// the new one (resolve.go). The packet cache and the rate limiter
// (ratelimit.go) are bounded maps with one eviction rule (bounded.go).
//
// UDP (udp.go): one reader per SO_REUSEPORT socket moves up to 32
// datagrams per system call through internal/udpbatch (recvmmsg and
// sendmmsg on Linux), answers packet-cache hits into buffers it reuses and
// sends their replies together; on that path nothing allocates, so a
// reader is never drafted into the collector's work. Miss workers write
// their replies through a duplicate of the socket's descriptor
// (udpreply.go), so they never hold the write lock the reader's batched
// write takes. A shed miss (overload.go) asks the resolver's cache with
// one allocation (the name) when the cache holds nothing for it.
//
// Traces: a TraceSink (traces.go) receives resolutions with their walks
// when the debug page is on, at most traceRate a second after a burst
// (a flood's misses are not all traced); TraceOn (tracewatch.go) records
// the next few resolutions of a name at runtime (`addrwalk ctl trace-on`), bounded in
// names, count and time, for the log and trace-dump. Sockets passed by
// systemd are adopted in activation.go.
package server
