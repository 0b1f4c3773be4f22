//go:build race

package cache

// raceEnabled is set when the race detector is on: the memory test then
// inserts a tenth of its names, to stay within the suite's time.
const raceEnabled = true
