//go:build !unix

package sdnotify

// closeOnExec does nothing: systemd passes no descriptors here, so
// ListenFDs finds none to mark (LISTEN_PID never names this process).
func closeOnExec(int) {}
