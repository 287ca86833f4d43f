//go:build !unix

package scoreboard

// processExists cannot tell off Unix.
func processExists(pid int) (exists, known bool) { return false, false }
