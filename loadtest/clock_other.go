//go:build !linux

package loadtest

// hostClock describes the host's clock: not known on this platform.
func hostClock() string { return "unknown on this platform" }
