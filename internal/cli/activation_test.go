package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestServeSocketActivation starts `addrwalk serve` (this test binary,
// see TestMain) as systemd would with socket activation: a UDP and a TCP
// socket bound by the parent passed as descriptors 3 and 4, LISTEN_PID set
// to the child's own pid (by a shell that execs it), LISTEN_FDS and
// LISTEN_FDNAMES; readiness and stopping reported on $NOTIFY_SOCKET.
// Queries sent before the child starts wait in the sockets' queues, as
// under systemd, and are answered.
func TestServeSocketActivation(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "addrwalk.toml")
	// The configured listen address is replaced by the passed sockets.
	text := `[server]
listen = ["127.56.202.1:0"]
[local]
records = ["www.example.org. 60 IN A 192.0.2.10"]
[log]
level = "info"
`
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.56.202.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	udpFile, err := pc.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer udpFile.Close()
	tcpFile, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer tcpFile.Close()

	notifyPath := filepath.Join(dir, "notify.sock")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal([]string{"serve", "--config", conf, "--control", ""})
	// systemd sets LISTEN_PID between fork and exec; a shell that execs
	// the binary keeps its pid, so $$ is the server's pid.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0"`, exe)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LISTEN_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, cliArgsEnv+"="+string(args), "LISTEN_FDS=2", "LISTEN_FDNAMES=dns:dns", "NOTIFY_SOCKET="+notifyPath)
	cmd.ExtraFiles = []*os.File{udpFile, tcpFile} // descriptors 3 and 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The query goes out before the server runs: the socket holds it.
	c := &dns.Client{Timeout: 20 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	type reply struct {
		r   *dns.Msg
		err error
	}
	early := make(chan reply, 1)
	go func() { r, _, err := c.Exchange(m, addr); early <- reply{r, err} }()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the child is gone; then exitErr is set
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// The parent's copies are no longer needed: closing them shows the
	// child serves its own.
	_ = pc.Close()
	_ = ln.Close()

	states := make(chan string, 16)
	go func() {
		buf := make([]byte, 512)
		// Bounded by the notify socket closing when the test ends.
		for {
			n, err := notify.Read(buf)
			if err != nil {
				close(states)
				return
			}
			states <- string(buf[:n])
		}
	}()
	waitState := func(want string) {
		t.Helper()
		timeout := time.After(30 * time.Second) // a loaded 2-core machine, not readiness polling
		for {
			select {
			case s, ok := <-states:
				if !ok {
					t.Fatalf("notify socket closed before %s", want)
				}
				if strings.Contains(s, want) {
					return
				}
			case <-exited:
				t.Fatalf("serve exited (%v) before %s:\n%s", exitErr, want, stderr.String())
			case <-timeout:
				t.Fatalf("no %s from serve:\n%s", want, stderr.String())
			}
		}
	}
	waitState("READY=1")

	got := map[string][]string{}
	r := <-early
	if r.err != nil {
		t.Fatalf("query queued before start: %v\n%s", r.err, stderr.String())
	}
	got["udp (queued before start)"] = rrStrings(r.r)
	c.Net = "tcp"
	tr, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("tcp query: %v", err)
	}
	got["tcp"] = rrStrings(tr)
	want := map[string][]string{
		"udp (queued before start)": {"www.example.org.\t60\tIN\tA\t192.0.2.10"},
		"tcp":                       {"www.example.org.\t60\tIN\tA\t192.0.2.10"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitState("STOPPING=1")
	<-exited
	if exitErr != nil {
		t.Errorf("serve exit: %v\n%s", exitErr, stderr.String())
	}
	logs := stderr.String()
	if !strings.Contains(logs, "socket activation") || strings.Contains(logs, "127.56.202.1") {
		t.Errorf("log should show the adopted sockets and not the configured address:\n%s", firstLines(logs, 20))
	}
}

func rrStrings(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		out = append(out, rr.String())
	}
	return out
}

func firstLines(s string, n int) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for i := 0; i < n && sc.Scan(); i++ {
		out = append(out, sc.Text())
	}
	return strings.Join(out, "\n")
}
