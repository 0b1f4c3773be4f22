// Package netlab builds throw-away Linux network labs for tests: network
// namespaces (named aw-<random>-<pid>-<start>-<name>), veth pairs and a
// bridge with N hosts, all inside namespaces it creates, never in the
// caller's own. Every namespace is deleted by t.Cleanup, even when the test
// fails; the namespaces of a test process that was killed before its
// cleanups are deleted by the next lab to start, which reads their
// creator's PID and start time from their names (sweep_linux.go).
//
// Files: netlab_linux.go (labs, hosts, Do), sweep_linux.go (owners in
// names, the sweep of stale namespaces), netlab_others.go (the stub).
//
// Code under test runs inside a namespace with Do, which locks a goroutine
// to an OS thread, moves that thread into the namespace with setns(2) and
// lets the thread die afterwards (it is never returned to the scheduler).
// Sockets opened there stay bound to that namespace.
//
// Privileged: tests calling Require are skipped when not root and the CI
// environment variable is unset; otherwise (CI is root) they run and fail
// with the reason when setup fails.
package netlab
