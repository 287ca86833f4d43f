//go:build !linux

package engine

// runLoops reports that there is no event loop on this system; the
// goroutine driver runs the plan.
func (x *execution) runLoops() (bool, error) { return false, nil }
