//go:build race

package engine

// raceEnabled is true under the race detector. The event loop's raw
// socket I/O carries none of the happens-before edges the net package
// gives the detector, so a test that reads its server's state after
// Execute would see false races; under -race every plan runs on the
// goroutine driver.
const raceEnabled = true
