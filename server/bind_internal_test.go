package server

import (
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

func TestBindErrNamesTheFix(t *testing.T) {
	tests := []struct {
		name       string
		addr       string
		err        error
		privileged bool
	}{
		{"port 53 denied", "127.0.0.1:53", syscall.EACCES, true},
		{"high port denied", "127.0.0.1:5353", syscall.EACCES, false},
		{"port 53 in use", "127.0.0.1:53", syscall.EADDRINUSE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bindErr("udp", netip.MustParseAddrPort(tt.addr), tt.err)
			if got := errors.Is(err, ErrPrivilegedPort); got != tt.privileged {
				t.Errorf("errors.Is(ErrPrivilegedPort) = %v, want %v (%v)", got, tt.privileged, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "server: ") || !strings.Contains(err.Error(), tt.addr) {
				t.Errorf("error %q lacks the prefix or the address", err)
			}
			if tt.privileged && !strings.Contains(err.Error(), "setcap cap_net_bind_service+ep") {
				t.Errorf("error does not name the fix: %v", err)
			}
		})
	}
}
