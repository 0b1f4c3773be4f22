package cli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/addrwalk/addrwalk/internal/sdnotify"
	"github.com/addrwalk/addrwalk/server"
)

// activatedSockets adopts the sockets systemd passed to this process
// (socket activation, examples/serve/addrwalk*.socket), by their
// FileDescriptorName=: "dns" (or unnamed) for plain DNS over UDP and TCP,
// "dot" and "doh" for the encrypted listeners. The variables are removed
// from the environment so that no child takes the sockets for its own.
func activatedSockets(log *slog.Logger) (server.Activated, error) {
	var act server.Activated
	if _, ok := os.LookupEnv("LISTEN_PID"); !ok {
		return act, nil
	}
	files, err := sdnotify.ListenFDs(os.LookupEnv, os.Getpid())
	sdnotify.UnsetListenEnv()
	if err != nil {
		return act, fmt.Errorf("socket activation: %w", err)
	}
	for i, f := range files {
		if err := act.Add(f.Name, f.File); err != nil {
			for _, rest := range files[i+1:] {
				_ = rest.File.Close()
			}
			act.Close()
			return server.Activated{}, fmt.Errorf("socket activation: descriptor %d: %w", 3+i, err)
		}
	}
	if len(files) > 0 {
		log.Info("socket activation", "plain_udp", len(act.UDP), "plain_tcp", len(act.TCP), "dot", len(act.DoT), "doh", len(act.DoH))
	}
	return act, nil
}

// useActivated returns the addresses serve binds itself: the
// configuration's, except for the kinds of listener systemd passed
// sockets for, which replace them.
func useActivated(act *server.Activated, c *server.Config) {
	if act.Plain() {
		c.Listen = nil
	}
	if len(act.DoT) > 0 {
		c.Encrypted.DoT = nil
	}
	if len(act.DoH) > 0 {
		c.Encrypted.DoH = nil
	}
	c.Activated = *act
}
