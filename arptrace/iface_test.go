package arptrace

import (
	"errors"
	"net"
	"testing"
)

func TestCheckInterface(t *testing.T) {
	tests := []struct {
		name string
		ifi  net.Interface
	}{
		{"loopback", net.Interface{Name: "lo", Flags: net.FlagLoopback | net.FlagUp}},
		{"no hardware address", net.Interface{Name: "tun0", Flags: net.FlagUp | net.FlagPointToPoint}},
		{"infiniband", net.Interface{Name: "ib0", Flags: net.FlagUp, HardwareAddr: make(net.HardwareAddr, 20)}},
		{"down", net.Interface{Name: "eth9", HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkInterface(&tc.ifi)
			if !errors.Is(err, ErrInterface) {
				t.Fatalf("err = %v, want ErrInterface", err)
			}
		})
	}
}
