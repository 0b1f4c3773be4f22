package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/replay"
	"github.com/addrwalk/addrwalk/resolver"
)

// TestTraceScenario is a debugging aid, skipped unless asked for: it
// resolves one question against a scenario's scripted network at a given
// step and logs every trace event. For example:
//
//	ADDRWALK_TRACE_RPL=val_adbit ADDRWALK_TRACE_STEP=1 ADDRWALK_TRACE_NAME=www.example.com. \
//	ADDRWALK_TRACE_TYPE=A go test -run TestTraceScenario -v ./internal/conformance
func TestTraceScenario(t *testing.T) {
	file := os.Getenv("ADDRWALK_TRACE_RPL")
	if file == "" {
		t.Skip("set ADDRWALK_TRACE_RPL (and _STEP, _NAME, _TYPE, _QMIN) to trace one question")
	}
	dir, err := replay.Dir()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := replay.ParseFile(filepath.Join(dir, file+".rpl"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHarness(sc, os.Getenv("ADDRWALK_TRACE_QMIN") != "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// ADDRWALK_TRACE_BEFORE="step name type,…" replays earlier questions first.
	for _, q := range strings.Split(os.Getenv("ADDRWALK_TRACE_BEFORE"), ",") {
		f := strings.Fields(q)
		if len(f) != 3 {
			continue
		}
		st, _ := strconv.Atoi(f[0])
		h.nw.SetStep(st)
		res, err := h.r.Query(context.Background(), resolver.Request{Name: f[1], Type: traceType(f[2]), DO: true})
		t.Logf("before: %s %s: %v %v", f[1], f[2], res, err)
	}
	step, _ := strconv.Atoi(os.Getenv("ADDRWALK_TRACE_STEP"))
	h.nw.SetStep(step)
	req := resolver.Request{
		Name: os.Getenv("ADDRWALK_TRACE_NAME"), Type: traceType(os.Getenv("ADDRWALK_TRACE_TYPE")), DO: true,
		Observer: resolver.ObserverFunc(func(e resolver.Event) {
			t.Logf("%s depth=%d zone=%s %s %s %s -> %s: %s %s %v", e.Kind, e.Depth, e.Zone, e.Name, e.Type, e.Server, e.Outcome, e.Detail, e.Err, e.Answer)
		}),
	}
	res, err := h.r.Query(context.Background(), req)
	t.Logf("result: %+v, error: %v", res, err)
}

// traceType reads a type mnemonic or the RFC 3597 form TYPEnnn.
func traceType(s string) uint16 {
	if t, ok := dns.StringToType[s]; ok {
		return t
	}
	n, _ := strconv.ParseUint(strings.TrimPrefix(s, "TYPE"), 10, 16)
	return uint16(n)
}
