//go:build race

package cli

// raceEnabled is set when the race detector is on: TestServeMemoryBudget
// then sends a tenth of its names, to stay within the suite's time.
const raceEnabled = true
