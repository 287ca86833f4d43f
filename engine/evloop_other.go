//go:build !linux

package engine

import "net"

// runLoops reports that there is no event loop on this system; the
// goroutine driver runs the plan.
func (x *execution) runLoops() (bool, error) { return false, nil }

// idleData cannot look at a socket without blocking here; a stale
// connection is still replaced once by the stale-connection rule.
func idleData(net.Conn) (warn string, gone bool) { return "", false }

func awaitReadable(net.Conn) error { return nil }
