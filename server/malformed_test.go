package server_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// echoResolver answers every question with an A record for the name, and
// fails for odd-numbered types.
type echoResolver struct{}

func (echoResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	res := &resolver.Result{Name: dns.Fqdn(req.Name), Type: req.Type, Class: req.Class}
	if req.Type%2 == 1 && req.Type != dns.TypeA {
		res.Rcode = dns.RcodeServerFailure
		return res, &resolver.Error{Name: req.Name, Type: req.Type, Err: resolver.ErrTimeout, EDE: dns.ExtendedErrorCodeNoReachableAuthority, Detail: "fake"}
	}
	res.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: res.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 1}}}
	return res, nil
}

// header returns a 12-byte header: ID 0x1234, the flags and counts given.
func header(flags uint16, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, 0x1234)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	binary.BigEndian.PutUint16(b[8:], ns)
	binary.BigEndian.PutUint16(b[10:], ar)
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	wwwQ = []byte("\x03www\x07example\x03org\x00\x00\x01\x00\x01")
	opt  = []byte("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00")
)

func TestMalformed(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	const rd = 0x0100
	tests := []struct {
		name      string
		req       []byte
		wantDrop  bool
		wantRcode int
	}{
		{"empty", nil, true, 0},
		{"short header", []byte{0x12, 0x34, 0x01}, true, 0},
		{"response bit set", cat(header(0x8000|rd, 1, 0, 0, 0), wwwQ), true, 0},
		{"header only", header(rd, 1, 0, 0, 0), false, dns.RcodeFormatError},
		{"no question", header(rd, 0, 0, 0, 0), false, dns.RcodeFormatError},
		{"two questions", cat(header(rd, 2, 0, 0, 0), wwwQ, wwwQ), false, dns.RcodeFormatError},
		{"answer in query", cat(header(rd, 1, 1, 0, 0), wwwQ), false, dns.RcodeFormatError},
		{"question cut short", cat(header(rd, 1, 0, 0, 0), wwwQ[:10]), false, dns.RcodeFormatError},
		{"type cut short", cat(header(rd, 1, 0, 0, 0), wwwQ[:len(wwwQ)-3]), false, dns.RcodeFormatError},
		{"pointer in question", cat(header(rd, 1, 0, 0, 0), []byte("\x03www\xc0\x0c\x00\x01\x00\x01")), false, dns.RcodeFormatError},
		{"label too long", cat(header(rd, 1, 0, 0, 0), []byte{64}, make([]byte, 64), []byte("\x00\x00\x01\x00\x01")), false, dns.RcodeFormatError},
		{"additional missing", cat(header(rd, 1, 0, 0, 1), wwwQ), false, dns.RcodeFormatError},
		{"two OPT records", cat(header(rd, 1, 0, 0, 2), wwwQ, opt, opt), false, dns.RcodeFormatError},
		{"OPT not at root", cat(header(rd, 1, 0, 0, 1), wwwQ, []byte("\x01a"), opt[1:]), false, dns.RcodeFormatError},
		{"OPT option overruns", cat(header(rd, 1, 0, 0, 1), wwwQ, opt[:9], []byte("\x00\x04\x00\x0a\x00\x08")), false, dns.RcodeFormatError},
		{"too many additional", cat(header(rd, 1, 0, 0, 9), wwwQ), false, dns.RcodeFormatError},
		{"valid with OPT", cat(header(rd, 1, 0, 0, 1), wwwQ, opt), false, dns.RcodeSuccess},
		{"trailing garbage ignored", cat(header(rd, 1, 0, 0, 0), wwwQ, []byte{1, 2, 3}), false, dns.RcodeSuccess},
	}
	client := netip.MustParseAddrPort(loopClient)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := h.Handle(t.Context(), tt.req, client, server.TransportUDP)
			if tt.wantDrop {
				if ok {
					t.Fatalf("replied %x, want drop", resp)
				}
				return
			}
			if !ok {
				t.Fatal("dropped, want a reply")
			}
			m := new(dns.Msg)
			if err := m.Unpack(resp); err != nil {
				t.Fatalf("reply does not parse: %v (%x)", err, resp)
			}
			if m.Id != 0x1234 || !m.Response || m.Rcode != tt.wantRcode {
				t.Errorf("id %#x QR %v rcode %s, want 0x1234 true %s", m.Id, m.Response, dns.RcodeToString[m.Rcode], dns.RcodeToString[tt.wantRcode])
			}
		})
	}
}

// FuzzHandle feeds arbitrary bytes to the query path: it must never panic,
// and every reply must parse, carry the query's ID and have QR set.
func FuzzHandle(f *testing.F) {
	// Upstream traffic would make fuzzing slow: a fake resolver answers
	// every question with an A record, or fails for odd types.
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: echoResolver{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(h.Close)
	const rd = 0x0100
	for _, seed := range [][]byte{
		cat(header(rd, 1, 0, 0, 0), wwwQ),
		cat(header(rd, 1, 0, 0, 1), wwwQ, opt),
		cat(header(rd, 2, 0, 0, 0), wwwQ, wwwQ),
		cat(header(rd|0x2800, 1, 0, 0, 0), wwwQ),
		header(0, 0, 0, 0, 0),
		{0, 0},
	} {
		f.Add(seed)
	}
	client := netip.MustParseAddrPort(loopClient)
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, ok := h.Handle(t.Context(), req, client, server.TransportUDP)
		if !ok {
			return
		}
		if len(resp) > 1232 {
			t.Fatalf("UDP reply of %d bytes", len(resp))
		}
		m := new(dns.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("reply does not parse: %v\nreq %x\nresp %x", err, req, resp)
		}
		if m.Id != binary.BigEndian.Uint16(req) || !m.Response {
			t.Fatalf("reply id %#x QR %v for query %x", m.Id, m.Response, req)
		}
	})
}
