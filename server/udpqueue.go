package server

import (
	"net"
	"time"
)

// A listener's UDP socket queue is shared by every client: under a flood
// of cache misses a reader that falls behind makes cached names wait
// behind the flood, and once the queue is full the kernel drops queries
// at random, cached ones included. Two defences keep hits at their normal
// latency:
//
//   - a large receive buffer (udpReceiveBuffer), so the queue absorbs
//     the reader's stalls instead of dropping;
//   - the queue's delay is watched (the kernel's receive time of each
//     datagram, udpqueue_linux.go): a miss that waited longer than
//     maxUDPQueueDelay is shed, answered from the resolver's cache when
//     it holds the data and SERVFAIL "overloaded" otherwise, instead of
//     starting a resolution. Hits are answered whatever their wait.
//     Shedding frees the CPU the resolutions would take, so the reader
//     catches up, and the delay falls back under the bound. The same
//     bound holds for the socket's and the miss pool's queues together
//     (misspool.go): a miss that waited past it for a worker is shed by
//     the worker that takes it.

const (
	// udpReceiveBuffer is the receive buffer asked for each UDP
	// listener: 4 MiB, Unbound's recommended so-rcvbuf for a busy
	// server; at about 1 KiB of kernel memory per small datagram it holds
	// over a second of a 3,000 q/s flood. Without CAP_NET_ADMIN the
	// kernel caps it at net.core.rmem_max (README, "Hostile network").
	udpReceiveBuffer = 4 << 20
	// maxUDPQueueDelay is how long a cache miss may have waited in the
	// listener's queue and still start a resolution: half the 100 ms p99
	// a cached answer must keep under a flood (the hostile suite's goal).
	// Past it the reader is behind, and every resolution it starts makes
	// every queued query, hits included, wait longer.
	maxUDPQueueDelay = 50 * time.Millisecond
)

// late reports whether a datagram received at rx (the kernel's stamp;
// zero without one) waited longer than maxUDPQueueDelay by now. The
// kernel's stamp is wall-clock time, so now must be too.
func late(rx, now time.Time) bool {
	return !rx.IsZero() && now.Sub(rx) > maxUDPQueueDelay
}

// listenerBuffer asks for udpReceiveBuffer through the portable call
// (capped by the system's maximum); Linux first tries past the cap.
func listenerBuffer(conn *net.UDPConn) error { return conn.SetReadBuffer(udpReceiveBuffer) }
