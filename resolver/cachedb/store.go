package cachedb

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// Store is a cache.Shared on Redis (a server, a Sentinel set or a
// Cluster). It never fails the resolver: while Redis is unreachable, slow
// or serving garbage, lookups miss at once and writes are dropped, both
// counted; a prober reconnects with backoff.
type Store struct {
	cfg    Config
	client redis.UniversalClient
	h      health

	queue   chan write
	pending atomic.Int64 // writes queued or being sent
	// queuedBytes weighs the writes queued or being sent (key and value);
	// enqueue keeps it under cfg.QueueSize*queueBytesPerWrite.
	queuedBytes atomic.Int64
	ctx         context.Context // ends on Close
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	hits, misses, timeouts, errs, garbage, skipped atomic.Uint64
	writes, writeErrs, dropFull, dropDown, tooBig  atomic.Uint64
}

var _ cache.Shared = (*Store)(nil)

// write is one queued command: SET with a TTL, or DEL of a bad value.
type write struct {
	key  string
	val  []byte
	ttl  time.Duration
	del  bool
	done chan struct{} // a Flush marker: closed once the writes before it were sent
}

// queueBytesPerWrite bounds the bytes of the write queue together with its
// length: a queue of QueueSize writes may weigh QueueSize KiB. Entries
// weigh 100 to 500 bytes (a signed one about 1 KiB), so the count is the
// bound that binds in normal traffic; but one entry may reach
// MaxObjectSize (64 KiB), and a queue of 4096 such entries, filled while
// Redis stalls, would be 256 MiB outside the cache budget. At the default
// QueueSize the queue holds at most 4 MiB.
const queueBytesPerWrite = 1 << 10

// maxBatch bounds the writes sent in one pipeline: at about 200 bytes an
// entry that is some 12 KB, one round trip, while a queue that filled up
// during a stall drains in a few dozen round trips.
const maxBatch = 64

// New returns a Store for cfg and starts its writer and prober. Redis
// need not be reachable: the store starts in StateConnecting and comes up
// when a probe succeeds. Close it when done.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opts := &redis.UniversalOptions{
		Addrs:      cfg.Addrs,
		MasterName: cfg.SentinelMaster,
		Username:   cfg.Username,
		Password:   cfg.Password,
		TLSConfig:  cfg.TLS,
		// RESP2 needs no HELLO round trip and suits every Redis and
		// Valkey version.
		Protocol:    2,
		DialTimeout: cfg.DialTimeout,
		// One try per command: the resolver does not wait for retries,
		// and the prober owns reconnecting.
		MaxRetries:    -1,
		DialerRetries: 1,
		// The per-call context deadline (ReadTimeout, WriteTimeout) is
		// what bounds a command.
		ContextTimeoutEnabled: true,
		ReadTimeout:           max(cfg.ReadTimeout, cfg.WriteTimeout),
		WriteTimeout:          max(cfg.ReadTimeout, cfg.WriteTimeout),
		DisableIdentity:       true,
		IsClusterMode:         cfg.Cluster,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	s := &Store{cfg: cfg, client: redis.NewUniversalClient(opts), queue: make(chan write, cfg.QueueSize)}
	s.h.init(cfg.Logger)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.writer()
	go s.prober()
	return s, nil
}

// Close stops the writer (queued writes are dropped) and the prober and
// closes the connections.
func (s *Store) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.client.Close()
}

// key is where an entry lives: the prefix, the format version, then the
// question (class and type as numbers, so every type has one spelling).
func (s *Store) key(k cache.SharedKey) string {
	return s.cfg.KeyPrefix + "v1:" + strconv.Itoa(int(k.Class)) + ":" + strconv.Itoa(int(k.Type)) + ":" + k.Name
}

// Get implements cache.Shared. It reads at most MaxObjectSize+1 bytes
// (GETRANGE), so an oversized value costs no more than that to find.
func (s *Store) Get(ctx context.Context, k cache.SharedKey) (cache.SharedEntry, bool) {
	if s.h.state() != StateUp {
		s.skipped.Add(1)
		return cache.SharedEntry{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	key := s.key(k)
	b, err := s.client.GetRange(ctx, key, 0, int64(s.cfg.MaxObjectSize)).Bytes()
	switch {
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		// Something else was stored under our key: garbage, not a fault.
		s.bad(key)
		return cache.SharedEntry{}, false
	case err != nil:
		if isTimeout(err) {
			s.timeouts.Add(1)
		} else {
			s.errs.Add(1)
		}
		s.h.failed(err, s.wake)
		return cache.SharedEntry{}, false
	}
	s.h.succeeded()
	if len(b) == 0 {
		s.misses.Add(1)
		return cache.SharedEntry{}, false
	}
	if len(b) > s.cfg.MaxObjectSize {
		s.bad(key)
		return cache.SharedEntry{}, false
	}
	e, err := Decode(b, k)
	if err != nil {
		s.bad(key)
		return cache.SharedEntry{}, false
	}
	if !e.Expires.After(s.cfg.Now()) {
		// Redis expires keys by its own clock; ours decides.
		s.misses.Add(1)
		return cache.SharedEntry{}, false
	}
	s.hits.Add(1)
	return e, true
}

// bad counts a value that cannot be served and queues its deletion.
func (s *Store) bad(key string) {
	s.garbage.Add(1)
	s.enqueue(write{key: key, del: true})
}

// Put implements cache.Shared: it encodes e now (the caller keeps its
// records) and queues the write, with the Redis key TTL set to what is
// left of the entry's TTL.
func (s *Store) Put(k cache.SharedKey, e cache.SharedEntry) {
	ttl := e.Expires.Sub(s.cfg.Now()).Truncate(time.Millisecond)
	if ttl < time.Second {
		return
	}
	if s.h.state() != StateUp {
		s.dropDown.Add(1)
		return
	}
	b, err := Encode(k, e)
	if err != nil || len(b) > s.cfg.MaxObjectSize {
		s.tooBig.Add(1)
		return
	}
	s.enqueue(write{key: s.key(k), val: b, ttl: ttl})
}

// Flush waits until the writes queued before it were sent (or dropped).
func (s *Store) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.queue <- write{done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func (s *Store) enqueue(w write) {
	size := w.size()
	if s.queuedBytes.Add(size) > int64(s.cfg.QueueSize)*queueBytesPerWrite {
		s.queuedBytes.Add(-size)
		s.dropFull.Add(1)
		return
	}
	s.pending.Add(1)
	select {
	case s.queue <- w:
	default:
		s.pending.Add(-1)
		s.queuedBytes.Add(-size)
		s.dropFull.Add(1)
	}
}

// size is what w weighs in the write queue.
func (w write) size() int64 { return int64(len(w.key) + len(w.val)) }

// writer sends queued writes in pipelined batches.
func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]write, 0, maxBatch)
	for {
		select {
		case <-s.ctx.Done():
			return
		case w := <-s.queue:
			batch = append(batch[:0], w)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case w := <-s.queue:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		s.send(batch)
	}
}

func (s *Store) send(batch []write) {
	defer func() {
		for _, w := range batch {
			if w.done != nil {
				close(w.done)
			} else {
				s.pending.Add(-1)
				s.queuedBytes.Add(-w.size())
			}
		}
	}()
	n := uint64(0)
	for _, w := range batch {
		if w.done == nil {
			n++
		}
	}
	if n == 0 {
		return
	}
	if s.h.state() != StateUp {
		s.dropDown.Add(n)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
	defer cancel()
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, w := range batch {
			if w.done != nil {
				continue
			}
			if w.del {
				p.Del(ctx, w.key)
			} else {
				p.Set(ctx, w.key, w.val, w.ttl)
			}
		}
		return nil
	})
	if err != nil {
		s.writeErrs.Add(n)
		if s.ctx.Err() == nil {
			s.h.failed(err, s.wake)
		}
		return
	}
	s.h.succeeded()
	s.writes.Add(n)
}

// Probe backoff: the first retry comes soon, so a Redis restart costs a
// fraction of a second of misses; the last is a few seconds, so a Redis
// that stays down costs one failed connection every few seconds.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// wake asks the prober to start probing (the store just went down).
func (s *Store) wake() {
	select {
	case s.h.wake <- struct{}{}:
	default:
	}
}

// prober pings Redis until it answers whenever the store is not up.
func (s *Store) prober() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.h.wake:
		}
		backoff := minBackoff
		for s.h.state() != StateUp {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DialTimeout)
			err := s.ping(ctx)
			cancel()
			if s.ctx.Err() != nil {
				return
			}
			if err == nil {
				s.h.up()
				break
			}
			s.h.down(err)
			t := time.NewTimer(backoff)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// ping checks that Redis answers. A Cluster must answer on every master,
// asked after reloading the slot map: a failed master leaves its slots'
// keys unreachable (and, by default, the whole cluster refusing), and
// after a failover the reloaded map sends commands to the promoted replica
// at once, where go-redis would learn of it only from a MOVED reply or
// its 60-second reload, failing every lookup of those slots meanwhile.
func (s *Store) ping(ctx context.Context) error {
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() })
	}
	return s.client.Ping(ctx).Err()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
