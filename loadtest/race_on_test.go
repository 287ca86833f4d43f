//go:build race

package loadtest_test

// raceEnabled: under -race every plan runs on the goroutine driver.
const raceEnabled = true
