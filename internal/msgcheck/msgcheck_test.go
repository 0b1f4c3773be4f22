package msgcheck

import "testing"

func TestProblems(t *testing.T) {
	tests := []struct {
		line string
		bad  bool
	}{
		{`addrwalk: trust anchor: dnssec: trust anchors: anchors: dns: not a TTL: "here" at line: 1:12`, true},
		{`got: timeout: timeout: try another server`, true},
		{`got: error: error: try another server`, true},
		{`addrwalk: resolver: request deadline exceeded: -1ms left`, true},
		{`addrwalk: arptrace: unusable interface "x": no such interface (see ip link): route ip+net: no such network interface`, true},
		{`addrwalk: config: c.toml:2: server.listen: IPv4 field has value >255`, true},
		{`addrwalk: took 1.234567ms`, true},
		{`addrwalk: --port: "99999" is not a whole number from 0 to 65535`, false},
		{`addrwalk: arptrace: no interface named "nosuchdev0" (this host has lo, eth0; see 'ip link')`, false},
		{`addrwalk: config: c.toml:2: cache.max-ttl: "x" is not a duration; want a number of seconds`, false},
		{`addrwalk: config: /tmp/x/ttl.toml:2: cache.max-ttl: "an hour" is not a duration`, false},
		{`addrwalk: --duration: "soon" is not a duration`, false},
		{`got: referral (NOERROR; qr): referral to org.: 2 NS, 2 glue`, true},
		{`got: answer (NOERROR; qr aa): answer: 1 record(s)`, true},
		{`got: busy: busy: not sent`, true},
		{`addrwalk: --trust-anchor: open /x: no such file or directory`, true},
		{`addrwalk: config: read /etc: is a directory`, true},
		{`addrwalk: resolver: request deadline exceeded: context deadline exceeded`, true},
		{`got: referral (NOERROR; qr): org. is served by 2 NS, with 2 glue record(s)`, false},
		{`got: error: refused the query (nothing listens on its port); try another server`, false},
		{`addrwalk: cannot read --trust-anchor /x: no such file`, false},
		{`resolving www.example.org. A: resolver: upstream timed out`, true},
		{`;; SERVFAIL: resolver: www.example.org. A: upstream timed out`, true},
		{`addrwalk: arp scan: arptrace: "10.0.0.0/40" is not an IPv4 address`, false},
		{`addrwalk: --interface: arptrace: no interface named "x"`, false},
		{`addrwalk: resolver: failed recently (cached failure): resolving x. A: resolver: no reachable authoritative server`, true},
		{`addrwalk: resolver: www.example.org. A: failed recently (cached failure): no reachable authoritative server (2 servers)`, false},
		{`addrwalk: control: setup: cannot write --dir /x: permission denied (addrwalk runs as uid 1000)`, false},
	}
	for _, tt := range tests {
		if got := Problems(tt.line); (len(got) > 0) != tt.bad {
			t.Errorf("Problems(%q) = %q, want bad=%v", tt.line, got, tt.bad)
		}
	}
}
