package server_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// FuzzTCPFraming feeds an arbitrary byte stream to the server's TCP
// reader (RFC 1035 §4.2.2 two-octet length prefixes: partial frames, zero
// and header-less lengths, 64 KiB lengths with short bodies, pipelined
// queries, garbage after a query). Properties: the server closes the
// connection soon after the client stops sending, and every reply frame
// parses, has QR set, and carries the ID and question of a complete frame
// of the stream.
func FuzzTCPFraming(f *testing.F) {
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: echoResolver{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(h.Close)
	// Short timers: a stream that ends inside a frame is closed by the
	// per-frame read timeout, and each run must end quickly.
	s := startServer(f, h, func(c *server.Config) {
		c.TCPReadTimeout = 100 * time.Millisecond
		c.TCPIdleTimeout = 300 * time.Millisecond
	})
	addr := s.Addrs()[0].String()
	const rd = 0x0100
	q := cat(header(rd, 1, 0, 0, 0), wwwQ)
	for _, seed := range [][]byte{
		frame(q),                                // one query
		cat(frame(q), frame(q), frame(q)),       // pipelined
		{0, 0},                                  // zero length
		{0, 5, 1, 2, 3, 4, 5},                   // shorter than a header
		cat([]byte{0xff, 0xff}, q),              // 64 KiB announced, less sent
		cat(frame(q), []byte{0}),                // a query, then half a length
		cat(frame(q)[:7]),                       // a query cut short
		cat(frame(q), frame([]byte("garbage"))), // a query, then junk
		cat(frame(cat(header(rd|0x8000, 1, 0, 0, 0), wwwQ))), // a response (QR=1)
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The server may close early (a malformed frame): a failed write
		// is expected then, and what it answered before still counts.
		_, _ = c.Write(stream)
		_ = c.(*net.TCPConn).CloseWrite()
		// 2 s: far above the 100 ms read timeout and 300 ms idle timer,
		// so only a reader that never gives up trips it.
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, err := io.ReadAll(c)
		reset := errors.Is(err, syscall.ECONNRESET)
		if err != nil && !reset {
			t.Fatalf("reading replies: %v (the server did not close the connection)\nstream %x", err, stream)
		}
		queries := completeFrames(stream)
		for len(got) > 0 {
			if len(got) < 2 {
				if reset {
					return
				}
				t.Fatalf("half a length prefix at the end: %x", got)
			}
			n := int(binary.BigEndian.Uint16(got))
			if len(got) < 2+n {
				if reset {
					return // cut by the reset
				}
				t.Fatalf("reply frame of %d announced, %d sent", n, len(got)-2)
			}
			checkReply(t, got[2:2+n], queries, stream)
			got = got[2+n:]
		}
	})
}

// completeFrames splits the stream into the frames that arrived whole.
func completeFrames(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) >= 2 {
		n := int(binary.BigEndian.Uint16(stream))
		if len(stream) < 2+n {
			break
		}
		out = append(out, stream[2:2+n])
		stream = stream[2+n:]
	}
	return out
}

// checkReply asserts a reply parses and answers one of the queries.
func checkReply(t *testing.T, reply []byte, queries [][]byte, stream []byte) {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("reply does not parse: %v\nreply %x\nstream %x", err, reply, stream)
	}
	if !m.Response {
		t.Fatalf("reply without QR\nstream %x", stream)
	}
	for _, q := range queries {
		if len(q) < 12 || binary.BigEndian.Uint16(q) != m.Id {
			continue
		}
		qm := new(dns.Msg)
		if len(m.Question) == 0 || qm.Unpack(q) != nil || len(qm.Question) == 0 {
			return // a FORMERR for a query that does not parse carries no question
		}
		if strings.EqualFold(qm.Question[0].Name, m.Question[0].Name) && qm.Question[0].Qtype == m.Question[0].Qtype {
			return
		}
	}
	t.Fatalf("reply id %#x question %v answers no query of the stream %x", m.Id, m.Question, stream)
}
