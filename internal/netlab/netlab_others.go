//go:build !linux

package netlab

import "testing"

// Require skips: network namespaces exist only on Linux.
func Require(t testing.TB) {
	t.Helper()
	t.Skip("netlab: network namespaces need Linux")
}
