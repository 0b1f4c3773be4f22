//go:build race

package server

// raceEnabled is set when the race detector is on: the memory test then
// puts fewer replies, to stay within the suite's time.
const raceEnabled = true
