// Package resolver is an iterative DNS resolver that walks from the root
// servers down the zone cuts to the authoritative servers itself, and can
// report every step it takes.
//
// It implements the resolver side of:
//   - RFC 1034 §5.3.3 and RFC 1035: the iterative algorithm, referrals,
//     glue, CNAME chasing;
//   - RFC 2181: bailiwick checks and ranking of data by where it came from;
//   - RFC 2308: NXDOMAIN and NODATA classification (the SOA is kept);
//   - RFC 6672: DNAME redirection, with the CNAME synthesised locally;
//   - RFC 6891: EDNS(0), advertising a 1232-byte UDP payload (the DNS Flag
//     Day 2020 value, which avoids IP fragmentation);
//   - RFC 7766: retry over TCP when a UDP reply has TC=1;
//   - RFC 9156: QNAME minimisation (relaxed, as Unbound's default);
//   - RFC 5452: random query IDs and source ports drawn from the whole
//     unprivileged range 1024-65535 minus a configurable exclude list
//     (ports.go: about 16 bits besides the ID), and replies accepted
//     only when source, ID and question all match; the others are
//     counted, and past a threshold the cache is flushed (unwanted.go);
//   - draft-vixie-dnsext-dns0x20: question names in random letter case,
//     with a per-server fallback decided over TCP only (caps.go, off by
//     default);
//   - RFC 7873 and RFC 9018: DNS cookies as a client (the client cookie
//     a keyed hash of the server's address), each server's cookie kept in
//     a bounded table of its own and required over UDP once the server
//     sent one, until an hour passes with no reply carrying one (no reply
//     a forger can cause, over UDP or TCP, clears it), BADCOOKIE retried
//     (cookies.go, off by default);
//   - nothing a blind forger causes weakens what a reply must show: a
//     timeout changes no per-server state, and a UDP exchange that sees
//     forged-looking replies is asked again over TCP (exchange.go:
//     spoofedUDP; a flood of replies failing the checks, any from a
//     server known to send cookies, a 0x20 case mismatch);
//   - RFC 4033-4035, RFC 5155, RFC 6840: DNSSEC validation (chain.go builds
//     the chain of trust, validate.go checks answers and denials,
//     zonecut.go finds the zone cuts no referral showed),
//     RFC 8198 aggressive use of NSEC/NSEC3 (aggressive.go), RFC 9520
//     failure caching (per question; a failure of a whole zone, such as
//     its servers held down, only in the zone's state: upstream.go,
//     zoneWide), RFC 8145 trust-anchor signalling (signal.go, off
//     by default) and the RFC 5011 active refresh (autotrust.go, run only
//     when called).
//
// Where things are:
//   - config.go: Config and its defaults (applied once, in withDefaults);
//     resolver.go: Resolver, Request, Result, Query/Refresh and the
//     request's life; flights.go: identical Query calls share one
//     resolution, run on the first caller's goroutine; lifecycle.go: Close drains requests, then cancels
//     and waits for prefetches;
//   - iterate.go: the walk (resolve follows CNAME/DNAME chains, lookup
//     walks the zone cuts) and QNAME minimisation (RFC 9156);
//     walkshare.go: what keeps a walk from asking what is known or
//     being asked (a cut learned meanwhile, an NS question in flight,
//     shortened questions already answered) and the walk ahead to a
//     CNAME's target while the CNAME is validated;
//   - servers.go: the zone cut and the choice of server;
//   - exchange.go and transport.go: one query to one server, UDP then
//     TCP, and the checks a reply must pass (RFC 5452); a UDP or TCP
//     read that ends at its deadline looks once more for a reply already
//     queued (a stall of the process, not of the server); on Linux each
//     UDP query's socket is opened with raw system calls (udpsock_linux.go);
//     inflight.go: identical questions in flight to one zone are sent
//     once, on the first asker's goroutine, to whichever of its servers
//     it chose (a joiner asks again itself if that asker gives up), and a
//     joiner whose wait ended gives the flight's last look a moment;
//   - classify.go: what a reply means (answer, referral, negative, lame),
//     bailiwick filtering, and the DNSSEC records kept with it;
//   - iterate.go (glueFor) and classify.go (referral): where glue is
//     judged;
//   - cached.go: answers and zone cuts from the cache, and what is stored;
//     cacheprobe.go: a cache-only question's plain miss found without
//     allocating (MayAnswerFromCache, for a server shedding a flood);
//     shared.go: the optional shared (second-level) cache;
//   - chain.go: the chain of trust; validate.go: answers and denials;
//     zonecut.go: zone cuts no referral showed;
//     aggressive.go: RFC 8198 answers from the validated NSEC records
//     the cache keeps (cache.Cache.LearnNSEC); signal.go, autotrust.go: trust anchors;
//   - records.go: record filters and copies; errors.go: sentinels, Error
//     and its Reason; limits.go: every bound and why; trace.go: events;
//     hints.go: root hints; ports.go: source ports; question.go: which
//     questions are refused; unwanted.go: replies with the wrong ID or
//     question, counted, and the cache flush past the threshold;
//   - upstream.go: Hardening, and what is kept per server and zone:
//     outstanding-query caps, the per-zone rate limit (Unbound's
//     ratelimit) and the hold-down of zones whose servers all time out
//     (one probe at a time, 2 s to 120 s apart); caps.go: 0x20;
//     cookies.go: client cookies and the table of servers that send them.
//
// The network is reached only through the Exchanger interface, so tests,
// the offline demo and the conformance runner plug in their own network.
// A Resolver has no package-level state: clock, logger and transport are
// fields of its Config.
package resolver
