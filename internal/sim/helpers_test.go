package sim

import (
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/miekg/dns"
)

// exchangeTimeout bounds one exchange with a healthy server; loopback
// replies without simulated latency take microseconds.
const exchangeTimeout = 2 * time.Second

// deadTimeout is how long a test waits for a server that is meant to be
// dead before concluding that it is.
const deadTimeout = 200 * time.Millisecond

// startSim starts the simulation without latency for a test.
func startSim(t *testing.T) *resolvertest.Lab {
	t.Helper()
	lab, err := New(Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	return resolvertest.Start(t, lab)
}

// view is the comparable summary of a reply.
type view struct {
	Rcode  string
	AA, TC bool
	Answer []string
	Ns     []string
	Extra  []string
}

func viewOf(m *dns.Msg) view {
	return view{
		Rcode:  dns.RcodeToString[m.Rcode],
		AA:     m.Authoritative,
		TC:     m.Truncated,
		Answer: rrStrings(m.Answer),
		Ns:     rrStrings(m.Ns),
		Extra:  rrStrings(m.Extra),
	}
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	return out
}

// rrs normalises zone-file lines to dns.RR.String form.
func rrs(t *testing.T, lines ...string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad test record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	return out
}
