package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// settleTimeout bounds waiting for a replica to sync, a Sentinel to see
// it or a Cluster to agree: each takes well under a second on an idle
// machine; a CI machine running -race next door gets many times that.
const settleTimeout = 30 * time.Second

// pollEvery is how often Eventually looks again: cheap local commands, and
// fine enough that a test waits little beyond the event.
const pollEvery = 20 * time.Millisecond

// Eventually polls cond until it holds, failing the test after timeout
// with what it waited for and cond's last error.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) { // bounded by the deadline
		if err = cond(); err == nil {
			return
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("redistest: %s: not after %v: %v", what, timeout, err)
}

// info returns one field of INFO section from s.
func (s *Server) info(section, field string) (string, error) {
	v, err := s.Try("INFO", section)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(fmt.Sprint(v), "\n") {
		if val, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return val, nil
		}
	}
	return "", fmt.Errorf("no %s in INFO %s", field, section)
}

// StartReplica starts a replica of primary (same TLS options) and waits
// until it has synced.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	o := primary.opts
	o.Args = append(append([]string{}, o.Args...), "--replicaof", primary.Host(), primary.Port())
	r := StartWith(t, o)
	waitSynced(t, r)
	return r
}

// Sentinel timings: it calls the master down after 300 ms without an
// answer and, as the only Sentinel (quorum 1), fails over at once; a
// failover that stalls is retried after 2 s. Production values are tens
// of seconds; these keep a failover test to a few seconds.
const (
	sentinelDownAfter       = 300
	sentinelFailoverTimeout = 2000
)

// StartSentinel starts a Sentinel that watches primary under the name
// master, and waits until it knows the replicas of primary given.
func StartSentinel(t testing.TB, master string, primary *Server, replicas ...*Server) *Server {
	t.Helper()
	conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 1\n"+
		"sentinel down-after-milliseconds %[1]s %[4]d\n"+
		"sentinel failover-timeout %[1]s %[5]d\n", master, primary.Host(), primary.Port(), sentinelDownAfter, sentinelFailoverTimeout)
	o := Options{Config: conf, Args: []string{"--sentinel"}, Ready: "Sentinel ID is"}
	if primary.opts.TLS {
		o.TLS, o.ClientTLS = true, primary.opts.ClientTLS
		o.Args = append(o.Args, tlsArgs(primary.opts.Args)...)
	}
	s := StartWith(t, o)
	Eventually(t, "Sentinel sees the replicas", settleTimeout, func() error {
		v, err := s.Try("SENTINEL", "REPLICAS", master)
		if err != nil {
			return err
		}
		if n := len(v.([]any)); n < len(replicas) {
			return fmt.Errorf("%d of %d replicas known", n, len(replicas))
		}
		return nil
	})
	return s
}

// tlsArgs keeps the --tls-* arguments (name and value) of args.
func tlsArgs(args []string) []string {
	var out []string
	for i := 0; i+1 < len(args); i++ {
		if strings.HasPrefix(args[i], "--tls-") {
			out = append(out, args[i], args[i+1])
			i++
		}
	}
	return out
}

// Cluster is a Redis Cluster on loopback: masters holding the 16384 hash
// slots in equal ranges, and replicas.
type Cluster struct {
	Masters  []*Server
	Replicas []*Server
}

// clusterNodeTimeout is the Cluster's node timeout in milliseconds: a
// master silent this long is failing, and its replica takes over a second
// or two later. Production uses 15 s; this keeps a failover test short,
// yet is long enough that a loaded CI machine's pauses do not pass for
// failures.
const clusterNodeTimeout = 1000

// hashSlots is the number of Redis Cluster hash slots.
const hashSlots = 16384

// StartCluster starts a Cluster of masters (at least 3, so a majority
// survives one failure) and waits until every node agrees it is ok.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	if masters < 3 {
		t.Fatalf("redistest: a cluster needs 3 masters or more, not %d", masters)
	}
	c := &Cluster{}
	for range masters {
		c.Masters = append(c.Masters, StartWith(t, Options{Cluster: true}))
	}
	for i, m := range c.Masters {
		m.Do(t, "CLUSTER", "ADDSLOTSRANGE", i*hashSlots/masters, (i+1)*hashSlots/masters-1)
	}
	for _, m := range c.Masters[1:] {
		c.Masters[0].Do(t, "CLUSTER", "MEET", m.Host(), m.Port(), m.BusPort())
	}
	c.waitOK(t, c.Masters)
	return c
}

// AddReplica starts a replica of master i, waits until it has synced and
// the cluster is ok again, and returns it.
func (c *Cluster) AddReplica(t testing.TB, i int) *Server {
	t.Helper()
	r := StartWith(t, Options{Cluster: true})
	c.Masters[0].Do(t, "CLUSTER", "MEET", r.Host(), r.Port(), r.BusPort())
	id := fmt.Sprint(c.Masters[i].Do(t, "CLUSTER", "MYID"))
	Eventually(t, "replica knows its master", settleTimeout, func() error {
		_, err := r.Try("CLUSTER", "REPLICATE", id)
		return err
	})
	waitSynced(t, r)
	c.Replicas = append(c.Replicas, r)
	c.waitOK(t, append(append([]*Server{}, c.Masters...), c.Replicas...))
	return r
}

// waitSynced waits until replica r has its primary's data.
func waitSynced(t testing.TB, r *Server) {
	t.Helper()
	Eventually(t, "replica "+r.Addr()+" synced", settleTimeout, func() error {
		st, err := r.info("replication", "master_link_status")
		if err == nil && st != "up" {
			err = fmt.Errorf("master_link_status %s", st)
		}
		return err
	})
}

// waitOK waits until each of nodes knows them all and says cluster_state:ok.
func (c *Cluster) waitOK(t testing.TB, nodes []*Server) {
	t.Helper()
	for _, n := range nodes {
		if n.dead() {
			continue
		}
		Eventually(t, "cluster state ok on "+n.Addr(), settleTimeout, func() error {
			v, err := n.Try("CLUSTER", "INFO")
			if err != nil {
				return err
			}
			s := fmt.Sprint(v)
			if !strings.Contains(s, "cluster_state:ok") || !strings.Contains(s, "cluster_known_nodes:"+strconv.Itoa(len(nodes))) {
				return fmt.Errorf("not settled:\n%s", s)
			}
			return nil
		})
	}
}

// Addrs are the masters' addresses, the seeds a client starts from.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, m := range c.Masters {
		out = append(out, m.Addr())
	}
	return out
}

// Owner returns the master that holds key's hash slot.
func (c *Cluster) Owner(t testing.TB, key string) int {
	t.Helper()
	slot, err := strconv.Atoi(fmt.Sprint(c.Masters[0].Do(t, "CLUSTER", "KEYSLOT", key)))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(c.Masters) - 1; i > 0; i-- {
		if slot >= i*hashSlots/len(c.Masters) {
			return i
		}
	}
	return 0
}

func (s *Server) dead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd == nil
}
