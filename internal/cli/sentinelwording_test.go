package cli

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/internal/msgcheck"
	"github.com/addrwalk/addrwalk/internal/sdnotify"
	"github.com/addrwalk/addrwalk/ndptrace"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/server"
)

// sentinelCase is one error a user can meet, made the way the program
// makes it: a package's sentinel wrapped with what was wrong.
type sentinelCase struct {
	name string
	err  error // the error as the package returns it
	is   error // the sentinel errors.Is must still find
}

// TestSentinelWording walks the sentinel wrappings (fmt.Errorf("%w: …"))
// a user can reach, in every package that has them — the resolver's
// *Error for each sentinel and the ones only a resolution makes (a
// cached failure, a deadline, a cancellation), socket activation
// (sdnotify, server), the shared cache (cachedb), the control channel,
// ARP and ND (arptrace, ndptrace), DNSSEC anchors — and checks each
// rendered message, as the CLI prints it ("addrwalk: " + the error), with
// msgcheck: what was wrong said once, no package prefix inside the
// sentence, no Go library words.
func TestSentinelWording(t *testing.T) {
	var cases []sentinelCase
	for _, s := range []error{
		resolver.ErrTimeout, resolver.ErrMalformed, resolver.ErrNoServers, resolver.ErrLame, resolver.ErrCNAMELoop,
		resolver.ErrCNAMEChain, resolver.ErrReferralDepth, resolver.ErrGluelessLimit, resolver.ErrSubDepth,
		resolver.ErrQueryLimit, resolver.ErrDependencyCycle, resolver.ErrDeadline, resolver.ErrInvalidQuestion,
		resolver.ErrNoAddressFamily, resolver.ErrLoopbackUpstream, resolver.ErrCacheMiss, resolver.ErrCachedFailure,
		resolver.ErrBogus, resolver.ErrSentinel, resolver.ErrRateLimited, resolver.ErrHeldDown, resolver.ErrClosed,
	} {
		cases = append(cases, sentinelCase{"resolver/" + strings.TrimPrefix(s.Error(), "resolver: "),
			&resolver.Error{Name: "www.example.org.", Type: dns.TypeA, Err: s, Detail: "2 servers of example.org."}, s})
	}
	// A bogus answer reads "DNSSEC validation failed (bogus): " and the
	// validator's sentinel without its "dnssec: " (resolver/validate.go
	// bogusError); an Insecure one's reason is shown the same way.
	for _, s := range []error{
		dnssec.ErrRRSIGsMissing, dnssec.ErrSignatureExpired, dnssec.ErrSignatureNotYetValid,
		dnssec.ErrSignatureExpiredBeforeValid, dnssec.ErrDNSKEYMissing, dnssec.ErrNoZoneKeyBit,
		dnssec.ErrInvalidSignature, dnssec.ErrSignerMismatch, dnssec.ErrRRSIGMismatch, dnssec.ErrBudgetExceeded,
		dnssec.ErrNSECMissing, dnssec.ErrWildcardProofMissing, dnssec.ErrMalformed, dnssec.ErrUnsupportedAlgorithm,
		dnssec.ErrUnsupportedDigest, dnssec.ErrUnsupportedNSEC3Hash, dnssec.ErrNSEC3Iterations, dnssec.ErrOptOut,
		dnssec.ErrNegativeTrustAnchor, dnssec.ErrTrustPoint,
	} {
		line := resolver.ErrBogus.Error() + ": " + strings.TrimPrefix(s.Error(), "dnssec: ") + ": www.example.org./A"
		cases = append(cases, sentinelCase{"dnssec/" + strings.TrimPrefix(s.Error(), "dnssec: "), errors.New(line), nil})
	}
	cases = append(cases, resolutionCases(t)...)
	cases = append(cases, localCases(t)...)

	got := map[string][]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			if c.is != nil && !errors.Is(c.err, c.is) {
				t.Errorf("errors.Is(%q, %q) = false: the wrapping lost its sentinel", c.err, c.is)
			}
			line := "addrwalk: " + c.err.Error()
			if p := msgcheck.Problems(line); len(p) > 0 {
				got[c.name] = append(p, line)
			}
		})
	}
	if diff := cmp.Diff(map[string][]string{}, got); diff != "" {
		t.Errorf("messages with problems (-want +got):\n%s", diff)
	}
}

// resolutionCases are the resolver's errors that only a resolution
// makes: against a root on a closed loopback port (refused at once), a
// failure, then the same question from the failure cache (RFC 9520);
// against a silent one, the request's deadline and a cancellation.
func resolutionCases(t *testing.T) []sentinelCase {
	t.Helper()
	dead, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadPort := uint16(dead.LocalAddr().(*net.UDPAddr).Port)
	dead.Close()
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	silentPort := uint16(silent.LocalAddr().(*net.UDPAddr).Port)
	hints, err := resolver.ParseHints(strings.NewReader(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n"), "test.hints")
	if err != nil {
		t.Fatal(err)
	}
	newResolver := func(port uint16) *resolver.Resolver {
		r, err := resolver.New(resolver.Config{Hints: hints, Port: port, AllowLoopback: true,
			QueryTimeout: 200 * time.Millisecond, RequestTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	req := resolver.Request{Name: "www.example.org.", Type: dns.TypeA}
	r := newResolver(deadPort)
	_, first := r.Query(t.Context(), req)
	var cacheEvent string
	cachedReq := req
	cachedReq.Observer = resolver.ObserverFunc(func(e resolver.Event) {
		if e.Kind == resolver.EventCache && e.Outcome == "failure" {
			cacheEvent = e.Detail
		}
	})
	_, cached := r.Query(t.Context(), cachedReq)

	s := newResolver(silentPort)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, deadline := s.Query(ctx, req)
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, cancelled := s.Query(ctx, resolver.Request{Name: "other.example.org.", Type: dns.TypeA})

	if cacheEvent == "" {
		t.Error("the second query's trace has no failure-cache event")
	}
	out := []sentinelCase{
		{"resolution/refused everywhere", first, resolver.ErrNoServers},
		{"resolution/cached failure", cached, resolver.ErrCachedFailure},
		{"resolution/cached failure keeps its reason", cached, resolver.ErrNoServers},
		{"resolution/cached failure trace", errors.New("cache: " + cacheEvent), nil},
		{"resolution/deadline", deadline, resolver.ErrDeadline},
		{"resolution/cancelled", cancelled, resolver.ErrDeadline},
	}
	// dig's ";; SERVFAIL:" line and a trace step show Why.
	var why []sentinelCase
	for _, c := range out {
		var e *resolver.Error
		if errors.As(c.err, &e) {
			why = append(why, sentinelCase{c.name + " (why)", errors.New(";; SERVFAIL: " + e.Why()), nil})
		}
	}
	return append(out, why...)
}

// localCases are the other packages' sentinels, each made by calling the
// package as the program does, with input that is wrong.
func localCases(t *testing.T) []sentinelCase {
	t.Helper()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	pid := os.Getpid()
	listenFDs := func(kv ...string) error {
		_, err := sdnotify.ListenFDs(env(kv...), pid)
		return err
	}
	activate := func(name string) error {
		f, err := os.Open(plain)
		if err != nil {
			t.Fatal(err)
		}
		return new(server.Activated).Add(name, f)
	}
	if _, err := control.Setup("--dir", dir, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, exists := control.Setup("--dir", dir, false, time.Now())
	_, tooLarge := arptrace.ScanTargets(netip.MustParsePrefix("10.0.0.0/8"), false)
	_, notARP := arptrace.DecodeFrame([]byte{1, 2, 3})
	_, notNA := ndptrace.DecodeNA([]byte{1, 2, 3})
	_, notEcho := ndptrace.DecodeEchoReply([]byte{1, 2, 3})
	_, decode := cachedb.Decode([]byte("garbage"), cache.SharedKey{Name: "www.example.org.", Type: dns.TypeA, Class: dns.ClassINET})
	_, noPort := cachedb.New(cachedb.Config{Addrs: []string{"redis.example.org"}})
	_, negAnchor := dnssec.NewNegativeAnchors("bad..name")
	_, noIface := arptrace.InterfaceByName("nosuchdev0")
	return []sentinelCase{
		{"sdnotify/LISTEN_PID not a number", listenFDs("LISTEN_PID", "x"), sdnotify.ErrListenEnv},
		{"sdnotify/LISTEN_FDS not a count", listenFDs("LISTEN_PID", strconv.Itoa(pid), "LISTEN_FDS", "-1"), sdnotify.ErrListenEnv},
		{"sdnotify/LISTEN_FDNAMES count", listenFDs("LISTEN_PID", strconv.Itoa(pid), "LISTEN_FDS", "2", "LISTEN_FDNAMES", "dns"), sdnotify.ErrListenEnv},
		{"activation/unknown name", activate("web"), server.ErrActivatedSocket},
		{"activation/not a socket", activate("dns"), server.ErrActivatedSocket},
		{"control/not a socket", control.CheckSocket(plain), control.ErrInsecureSocket},
		{"control/setup files exist", exists, control.ErrExists},
		{"arptrace/scan too large", tooLarge, arptrace.ErrTooLarge},
		{"arptrace/not an ARP frame", notARP, arptrace.ErrNotARP},
		{"arptrace/no interface", noIface, arptrace.ErrInterface},
		{"ndptrace/not a neighbor advertisement", notNA, ndptrace.ErrNotNA},
		{"ndptrace/not an echo reply", notEcho, ndptrace.ErrNotEchoReply},
		{"cachedb/undecodable value", decode, cachedb.ErrDecode},
		{"cachedb/address without port", noPort, cachedb.ErrConfig},
		{"dnssec/negative anchor not a name", negAnchor, dnssec.ErrMalformed},
	}
}
