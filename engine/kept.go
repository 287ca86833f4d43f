package engine

import (
	"net"
	"syscall"
)

// MaxKeptConns bounds the idle connections a virtual user keeps (all
// origins together): every connection a request of keep-alive mode
// scenario.OpenThenKeep or ReuseThenKeep leaves open is kept, up to this
// many, and keeping one more closes the one kept longest.
const MaxKeptConns = 8

// keptConn is an idle kept-alive connection of a virtual user.
type keptConn struct {
	nc  net.Conn
	raw syscall.RawConn // nc's, as the slot had it (rawOf)
	key string          // its target's key: scheme, host and port (and proxy)
	// lastRun and lastStep name the request whose response it carried
	// last, for a warning about what arrives on it while idle
	lastRun, lastStep int
}

// keptConns is a virtual user's pool of idle kept-alive connections: a
// request that may use a kept connection (keep-alive mode 1 or 3) takes
// one to its origin from here; one that may not (mode 0 or 2), or one to
// another origin,
// opens its own and leaves these alone. The connection in use stays on
// the slot (s.nc) and is parked here only when a request needs another
// one, so a VU that keeps to one origin never touches the pool.
type keptConns struct {
	on    bool // the slot is a virtual user's: keep idle connections here
	conns []keptConn
}

// park keeps the slot's connection, which its last response left
// reusable, in the pool, closing the one kept longest when the pool is
// full. The slot is left without a connection.
func (s *slot) park() {
	s.mu.Lock()
	nc, raw := s.nc, s.raw
	s.nc, s.raw, s.reusable = nil, nil, false
	s.mu.Unlock()
	if nc == nil {
		return
	}
	k := &s.kept
	if len(k.conns) >= MaxKeptConns {
		k.conns[0].nc.Close()
		k.conns = append(k.conns[:0], k.conns[1:]...)
	}
	k.conns = append(k.conns, keptConn{nc: nc, raw: raw, key: s.key, lastRun: s.lastRun, lastStep: s.lastStep})
}

// unpark makes the most recently kept connection to key the slot's
// (which has none), and reports whether there was one. The parser's
// input, which belonged to the connection it replaces, is dropped.
func (s *slot) unpark(key string) bool {
	k := &s.kept
	for i := len(k.conns) - 1; i >= 0; i-- {
		c := k.conns[i]
		if c.key != key {
			continue
		}
		k.conns = append(k.conns[:i], k.conns[i+1:]...)
		s.mu.Lock()
		if s.interrupted {
			s.mu.Unlock()
			c.nc.Close()
			return false
		}
		s.nc, s.raw, s.key, s.reusable = c.nc, c.raw, c.key, true
		s.mu.Unlock()
		s.lastRun, s.lastStep = c.lastRun, c.lastStep
		s.deadlineDirty = true // it carries the deadline it was parked with
		s.p.DiscardInput()
		return true
	}
	return false
}

// closeKept closes the slot's connection and every kept one.
func (s *slot) closeKept() {
	s.closeConn()
	for _, c := range s.kept.conns {
		c.nc.Close()
	}
	s.kept.conns = s.kept.conns[:0]
}
