package server

import (
	"net/netip"

	"github.com/addrwalk/addrwalk/resolver"
)

// TraceSink receives every resolution the server ran, with its trace: the
// debug page's list of recent resolutions (internal/walkui keeps them in
// a ring). Record is called on the resolving goroutine, once per
// resolution (not per client waiting on it), and must not block.
type TraceSink interface {
	Record(client netip.AddrPort, transport string, name string, qtype uint16, res *resolver.Result, err error)
}

// traced is what a resolution hands to the TraceSink; kept on the answer
// only while the sink is set.
type traced struct {
	res *resolver.Result
	err error
}

// recordTrace gives a finished resolution to the sink, if one is set, and
// to the runtime trace watch if its name is watched. Answers from the
// packet cache never get here: they run no resolution.
func (h *Handler) recordTrace(req resolver.Request, client netip.AddrPort, transport string, a *answer) {
	if a == nil || a.traced == nil {
		return
	}
	if h.traces != nil {
		h.traces.Record(client, transport, req.Name, req.Type, a.traced.res, a.traced.err)
	}
	h.watch.record(h, req, client, transport, a.traced.res, a.traced.err)
	a.traced = nil
}
