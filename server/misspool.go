package server

import (
	"net"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Cache misses run on a pool of worker goroutines fed by a queue the
// server owns, not on a goroutine each.
//
// Go's run queue is first in, first out and has no priorities: a UDP
// reader woken by the network waits behind every goroutine made runnable
// before it, and while run queues are not empty the scheduler looks at
// the network only every 10 ms (sysmon). With a goroutine per miss, a
// flood of misses on a CPU-starved machine kept hundreds of resolutions
// runnable, over a hundred of them not even started, and every cache hit
// waited behind them (#11: readers runnable but not running a third of
// the time). Here a miss is handed to a worker only while fewer
// goroutines of the process wait for a CPU than there are Ps
// (maxRunnable), or when no worker is on a miss; otherwise it waits in
// the pool's queue, which is not the run queue, and a worker that
// finishes takes the next miss itself, without a wake-up, under the same
// rule. A worker handed a miss hands on the next when it starts running,
// so a burst of cold misses on an idle machine starts at once, one
// wake-up after another. A miss that waited in the socket's queue and
// the pool's together past maxUDPQueueDelay is shed (answered from the
// resolver's cache, else SERVFAIL) by the next worker free, whatever the
// rule, rather than resolved, as a late datagram is (udpqueue.go).
//
// Workers start on demand, run one miss at a time (its flight runs on
// the worker: Handler.slow), and exit after missIdleTimeout without
// work. How many misses are admitted (queued or on a worker) stays
// bounded by the Server's pending slots, in total and per client: the
// queue and the workers never outgrow them.

// missIdleTimeout is how long a worker waits for a miss before it exits.
// Longer than the gaps of a lightly used resolver (a LAN's clients ask
// every few seconds), so a trickle of misses reuses a worker and its
// grown stack instead of starting a goroutine each (stack growth was 8 %
// of a flood's CPU); short enough that a burst's workers are gone soon
// after it.
const missIdleTimeout = 5 * time.Second

// missKickInterval is how often waiting misses are looked at again while
// the scheduler is busy and no worker finishes (workers may all wait on
// slow servers): a millisecond, short against the maxUDPQueueDelay a
// miss may wait, long against the look (a lock and a runtime/metrics
// read of some 300 ns).
const missKickInterval = time.Millisecond

// runnableMaxAge is how old the scheduler's count of runnable goroutines
// may be when the start rule uses it. Reading it takes the runtime's
// scheduler lock, which every goroutine switch of the process wants, and
// some 300 ns; read on every hand-off it was where the readers waited for
// the pool's mutex (#11: 95 ms in a 5 s trace of a flood). A quarter of
// missKickInterval: the count is never older than a fraction of the
// period at which waiting misses are looked at anyway, and it is read at
// most 4,000 times a second however fast misses come.
const runnableMaxAge = missKickInterval / 4

// missJob is one cache miss waiting for, or on, a worker: a copy of the
// query (the reader's buffer is reused), whom to answer and how.
type missJob struct {
	req  []byte // the query, in a buffer the job's holder keeps
	c    call   // c.q is parsed again from req (Handler.resolveRaw)
	conn *net.UDPConn
	sc   *streamConn // set for stream transports instead of conn
	doh  *dohMiss    // set for DoH instead of conn
	// since is when the query arrived: the kernel's receive stamp when
	// there is one, else when it was read.
	since time.Time
}

// set copies j into the job d, reusing d's request buffer.
func (d *missJob) set(j *missJob) {
	buf := append(d.req[:0], j.req...)
	*d = *j
	d.req = buf
}

// missWorker is one worker goroutine and the buffers it reuses.
type missWorker struct {
	job  missJob
	out  []byte        // reply buffer
	wake chan struct{} // one token: a job was put in job, or quit is set
	quit bool          // set by close before wake: exit
}

// missPool runs misses on workers; run answers one.
type missPool struct {
	run func(w *missWorker)
	// runnable returns how many goroutines of the process wait for a P
	// (runtime/metrics: a few hundred nanoseconds, no allocation). It is
	// called through runnableNow, never under mu.
	runnable func() int
	// runnableMaxAge: runnableNow reuses a count younger than this
	// (runnableMaxAge; 0 reads every time).
	runnableMaxAge time.Duration
	now            func() time.Time
	epoch          time.Time
	sampling       sync.Mutex   // held (TryLock) by the one goroutine reading runnable
	sampled        atomic.Int64 // the last count read
	// handedSince counts the misses handed to workers since that read:
	// each made a goroutine runnable that the count does not show yet.
	handedSince atomic.Int64
	sampledAt   atomic.Int64 // when: nanoseconds since epoch, plus one (0: never)
	// maxRunnable: a miss goes to a worker only while fewer goroutines
	// than this wait for a P. GOMAXPROCS: then a reader the network
	// wakes waits behind at most about one goroutine per P.
	maxRunnable int
	idleTimeout time.Duration
	wg          sync.WaitGroup // the workers

	mu       sync.Mutex // guards the following
	queue    []missJob  // ring buffer of waiting misses; buffers kept
	head, n  int        // first waiting miss and how many wait
	maxQueue int        // the queue's bound
	idle     []*missWorker
	busy     int // workers handed a miss, running or not yet
	workers  int // live workers
	closed   bool
	kick     *time.Timer // looks at waiting misses again (tick); nil until needed
	armed    bool        // kick is set
}

func newMissPool(maxQueue int, run func(w *missWorker)) *missPool {
	sample := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	runnable := func() int { // called under sampling only, so sample is not shared
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0 // an older runtime: no gate
		}
		return int(sample[0].Value.Uint64())
	}
	return &missPool{run: run, runnable: runnable, runnableMaxAge: runnableMaxAge,
		now: time.Now, epoch: time.Now(), maxRunnable: max(1, runtime.GOMAXPROCS(0)),
		idleTimeout: missIdleTimeout, maxQueue: maxQueue}
}

// runnableNow returns the scheduler's count of runnable goroutines, read
// again only when the last read is runnableMaxAge old and no other
// goroutine is reading it; a caller that finds a read in progress uses the
// last count rather than wait. A count reused is raised by the misses
// handed to workers since it was read: without that, readers and workers
// handed out misses for up to runnableMaxAge against a count that did
// not show them, past the rule, and the readers waited behind them.
// Never called under mu: the read is the slow part of the rule.
func (p *missPool) runnableNow() int {
	if p.runnableMaxAge > 0 {
		at := p.sampledAt.Load()
		if at != 0 && p.now().Sub(p.epoch)-time.Duration(at-1) < p.runnableMaxAge {
			return int(p.sampled.Load() + p.handedSince.Load())
		}
	}
	if !p.sampling.TryLock() {
		return int(p.sampled.Load() + p.handedSince.Load())
	}
	n := p.runnable()
	p.handedSince.Store(0) // the read counts those handed before it
	p.sampled.Store(int64(n))
	p.sampledAt.Store(int64(p.now().Sub(p.epoch)) + 1)
	p.sampling.Unlock()
	return n
}

// mayStartLocked says whether one more worker may go on a miss now, given
// the runnable count read before mu was taken and how many misses were
// handed to workers since (each made one more goroutine runnable). With
// none on a miss it always may, so a waiting miss never waits for
// nothing.
func (p *missPool) mayStartLocked(runnable, handed int) bool {
	return p.busy == 0 || runnable+handed < p.maxRunnable
}

// submit hands j (copied) to a worker, or queues it behind the misses
// already waiting or when the scheduler is busy (mayStartLocked); false
// when the queue is full.
func (p *missPool) submit(j *missJob) bool {
	r := p.runnableNow()
	var wk wakes
	p.mu.Lock()
	handed := 0
	ok := p.submitLocked(j, r, &handed, &wk)
	p.mu.Unlock()
	wk.run(p)
	return ok
}

// submitAll submits js in order under one hold of the mutex (a UDP
// reader's batch) and returns how many were taken: those after a refusal
// (the queue is full) are not.
func (p *missPool) submitAll(js []missJob) int {
	r := p.runnableNow()
	var wk wakes
	p.mu.Lock()
	handed, taken := 0, 0
	for taken < len(js) && p.submitLocked(&js[taken], r, &handed, &wk) { // bounded by len(js)
		taken++
	}
	p.mu.Unlock()
	wk.run(p)
	return taken
}

// submitLocked is submit's work, given the runnable count read before mu
// was taken; handed counts the misses handed to workers since, and wk
// collects their workers, to wake once mu is released.
func (p *missPool) submitLocked(j *missJob, runnable int, handed *int, wk *wakes) bool {
	if p.n == 0 && p.mayStartLocked(runnable, *handed) {
		p.handLocked(j, wk)
		*handed++
		return true
	}
	if p.n == p.maxQueue {
		return false
	}
	if p.n == len(p.queue) {
		p.growLocked()
	}
	p.queue[(p.head+p.n)%len(p.queue)].set(j)
	p.n++
	*handed += p.kickLocked(runnable+*handed, wk)
	p.armLocked()
	return true
}

// armLocked sets the kick timer when misses wait and it is not set.
func (p *missPool) armLocked() {
	if p.n == 0 || p.armed {
		return
	}
	p.armed = true
	if p.kick == nil {
		p.kick = time.AfterFunc(missKickInterval, p.tick)
		return
	}
	p.kick.Reset(missKickInterval)
}

// tick looks at the waiting misses again: they go to workers as the rule
// allows, and a late first one goes whatever the rule (its worker then
// sheds the late ones after it: next).
func (p *missPool) tick() {
	r := p.runnableNow()
	var wk wakes
	p.mu.Lock()
	p.armed = false
	if p.n > 0 && late(p.queue[p.head].since, time.Now()) {
		p.handLocked(&p.queue[p.head], &wk)
		p.popLocked()
		r++ // its worker is runnable now
	}
	p.kickLocked(r, &wk)
	p.armLocked()
	p.mu.Unlock()
	wk.run(p)
}

// kickLocked hands waiting misses to workers while the rule allows, given
// the runnable count read before mu was taken, and returns how many it
// handed. Each hand-off makes a worker runnable, so the loop ends after
// about maxRunnable of them; it is bounded by the queue's length anyway.
func (p *missPool) kickLocked(runnable int, wk *wakes) (handed int) {
	for range p.n {
		if !p.mayStartLocked(runnable, handed) {
			return handed
		}
		p.handLocked(&p.queue[p.head], wk)
		p.popLocked()
		handed++
	}
	return handed
}

// growLocked doubles the ring (up to maxQueue), keeping the order of the
// waiting misses and the buffers of every slot.
func (p *missPool) growLocked() {
	size := min(p.maxQueue, max(16, 2*len(p.queue)))
	q := make([]missJob, size)
	for i := range len(p.queue) {
		q[i] = p.queue[(p.head+i)%len(p.queue)]
	}
	p.queue, p.head = q, 0
}

// handLocked gives j to an idle worker, or to a new one, which wk wakes
// or starts once mu is released.
func (p *missPool) handLocked(j *missJob, wk *wakes) {
	p.busy++
	p.handedSince.Add(1)
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1] // the most recent: the others may time out
		p.idle = p.idle[:n-1]
		w.job.set(j)
		wk.add(p, w, false)
		return
	}
	w := &missWorker{wake: make(chan struct{}, 1), out: make([]byte, 0, maxReplyHint)}
	w.job.set(j)
	p.workers++
	p.wg.Add(1)
	wk.add(p, w, true)
}

// wakeBatch is how many hand-offs one holder of the pool's mutex defers
// until it releases it: a UDP reader's batch (udpBatch) plus the few
// waiting misses the start rule lets go with them. Past it a hand-off
// wakes its worker at once, under the mutex, as is always correct.
const wakeBatch = udpBatch + 8

// wakes holds the workers handed a miss under the pool's mutex, to be
// woken (or started) by run once it is released: a wake-up makes a
// goroutine runnable and may wake an OS thread (a system call), and
// under the mutex it lengthened every hold, so the readers, which take
// it too, waited longer (#11). A worker taken off the idle list waits
// for its token however long it takes (next).
type wakes struct {
	ws    [wakeBatch]*missWorker
	fresh [wakeBatch]bool // start a goroutine for it: a new worker
	n     int
}

// add defers w's wake-up (or start, when fresh); when wk is full it
// does it at once.
func (wk *wakes) add(p *missPool, w *missWorker, fresh bool) {
	if wk.n == len(wk.ws) {
		p.wakeWorker(w, fresh)
		return
	}
	wk.ws[wk.n], wk.fresh[wk.n] = w, fresh
	wk.n++
}

// run wakes or starts the deferred workers; the caller no longer holds
// the pool's mutex.
func (wk *wakes) run(p *missPool) {
	for i := range wk.n {
		p.wakeWorker(wk.ws[i], wk.fresh[i])
	}
}

// wakeWorker starts w (fresh) or hands it its wake token.
func (p *missPool) wakeWorker(w *missWorker, fresh bool) {
	if fresh {
		go p.work(w)
		return
	}
	w.wake <- struct{}{} // never blocks: one token per hand-off
}

// takeLocked moves the first waiting miss into w's job; false when none
// waits.
func (p *missPool) takeLocked(w *missWorker) bool {
	if p.n == 0 {
		return false
	}
	w.job.set(&p.queue[p.head])
	p.popLocked()
	return true
}

// popLocked drops the first waiting miss, keeping its slot's buffer.
func (p *missPool) popLocked() {
	j := &p.queue[p.head]
	j.c, j.conn, j.sc, j.doh = call{}, nil, nil, nil // drop references to the call's state
	p.head = (p.head + 1) % len(p.queue)
	p.n--
}

// started is called by a worker handed a miss once it runs: it no
// longer waits for a P, so a waiting miss may be handed on.
func (p *missPool) started() {
	r := p.runnableNow()
	var wk wakes
	p.mu.Lock()
	p.kickLocked(r, &wk)
	p.armLocked()
	p.mu.Unlock()
	wk.run(p)
}

// work runs w's job and whatever waits, until it has waited idleTimeout
// for work or the pool closes.
func (p *missPool) work(w *missWorker) {
	defer p.wg.Done()
	timer := time.NewTimer(p.idleTimeout)
	defer timer.Stop()
	p.started()
	for { // bounded: every turn answers one miss
		p.run(w)
		w.job.c, w.job.conn, w.job.sc, w.job.doh = call{}, nil, nil, nil
		if !p.next(w, timer) {
			return
		}
	}
}

// next gives w its next miss, waiting for one up to idleTimeout, and
// reports false when w must exit. A worker that has just finished takes
// a waiting miss itself when the rule allows (it is running already, so
// that adds nothing to the run queue), and a late one whatever the rule:
// shedding it is cheap and frees its slot.
func (p *missPool) next(w *missWorker, timer *time.Timer) bool {
	r := p.runnableNow()
	p.mu.Lock()
	p.busy--
	if p.n > 0 && (late(p.queue[p.head].since, time.Now()) || p.mayStartLocked(r, 0)) {
		p.busy++
		p.takeLocked(w)
		p.mu.Unlock()
		return true
	}
	p.armLocked()
	if p.closed {
		p.workers--
		p.mu.Unlock()
		return false
	}
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	timer.Reset(p.idleTimeout)
	select {
	case <-w.wake:
	case <-timer.C:
		p.mu.Lock()
		if !slices.Contains(p.idle, w) {
			// Handed a miss as the timer fired: its token comes once
			// the hand-off's holder releases the mutex (wakes).
			p.mu.Unlock()
			<-w.wake
			break
		}
		p.idle = slices.DeleteFunc(p.idle, func(x *missWorker) bool { return x == w })
		p.workers--
		p.mu.Unlock()
		return false
	}
	if w.quit {
		return false // close counted it out
	}
	p.started()
	return true
}

// stats returns how many misses wait, how many workers are handed one
// and how many wait for one, for the metrics.
func (p *missPool) stats() (queued, busy, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.busy, len(p.idle)
}

// close makes idle workers exit now and busy ones once the queue is
// empty. Misses submitted afterwards still run (on a new worker if none
// is left); the caller waits for wg once nothing can submit any more.
func (p *missPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, w := range p.idle {
		w.quit = true
		w.wake <- struct{}{}
	}
	p.workers -= len(p.idle)
	p.idle = nil
}
