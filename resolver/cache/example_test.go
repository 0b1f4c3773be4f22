package cache_test

import (
	"fmt"
	"time"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/miekg/dns"
)

func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := cache.New(&cache.Config{
		StaleMax: 24 * time.Hour,
		Now:      func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	a, _ := dns.NewRR("www.example.org. 300 IN A 192.0.2.1")
	res, _ := c.Insert(cache.RRset{RRs: []dns.RR{a}, Rank: cache.RankAnswerAuth})
	fmt.Println("insert:", res)

	glue, _ := dns.NewRR("www.example.org. 3600 IN A 192.0.2.99")
	res, _ = c.Insert(cache.RRset{RRs: []dns.RR{glue}, Rank: cache.RankAdditional})
	fmt.Println("glue:", res)

	now = now.Add(100 * time.Second)
	h, _ := c.Lookup("WWW.example.org", dns.TypeA, dns.ClassINET, cache.LookupOpts{})
	fmt.Println(h.RRs[0])

	now = now.Add(time.Hour)
	_, ok := c.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, cache.LookupOpts{})
	fmt.Println("fresh:", ok)
	h, _ = c.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, cache.LookupOpts{AllowStale: true})
	fmt.Println("stale:", h.Stale, h.RRs[0])
	// Output:
	// insert: stored
	// glue: outranked
	// www.example.org.	200	IN	A	192.0.2.1
	// fresh: false
	// stale: true www.example.org.	30	IN	A	192.0.2.1
}
