//go:build !linux && !darwin

package main

// raiseFDLimit does nothing: there is no RLIMIT_NOFILE to raise.
func raiseFDLimit(int) {}
