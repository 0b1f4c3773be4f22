package resolvertest

import "context"

// TB is the part of testing.TB that Start uses; *testing.T and *testing.B
// satisfy it. It is declared here, not imported, so that the simulator
// (internal/sim), which uses this package's servers, does not link the
// testing package (and its flags) into the addrwalk binary.
type TB interface {
	Helper()
	Context() context.Context
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Start starts lab for a test: it fails the test if the lab does not start
// and closes the lab when the test ends. It returns lab for chaining.
func Start(tb TB, lab *Lab) *Lab {
	tb.Helper()
	if err := lab.Start(tb.Context()); err != nil {
		tb.Fatalf("start lab: %v", err)
	}
	tb.Cleanup(func() {
		if err := lab.Close(); err != nil {
			tb.Errorf("close lab: %v", err)
		}
	})
	return lab
}
