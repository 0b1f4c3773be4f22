package resolvertest

import "testing"

// Start starts lab for a test: it fails the test if the lab does not start
// and closes the lab when the test ends. It returns lab for chaining.
func Start(tb testing.TB, lab *Lab) *Lab {
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
