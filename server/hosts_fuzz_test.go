package server_test

import (
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/server"
)

// FuzzAddHosts: any hosts file is imported or refused with an error naming
// the file; never a panic.
func FuzzAddHosts(f *testing.F) {
	f.Add("192.0.2.7 printer.example.org printer # office\n2001:db8::7 printer.example.org\n")
	f.Add("127.0.0.1 localhost\n::1 localhost ip6-localhost\nfe80::1%eth0 link\n")
	f.Add("300.1.1.1 bad\n192.0.2.1\n\x00\n")
	f.Fuzz(func(t *testing.T, text string) {
		l := server.NewLocal()
		if err := l.AddHosts(strings.NewReader(text), "fuzz.hosts"); err != nil && !strings.Contains(err.Error(), "fuzz.hosts") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
