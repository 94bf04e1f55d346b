//go:build race

package sockmsg_test

// raceEnabled is true when the race detector is on; it adds allocations of its own.
const raceEnabled = true
