package scoreboard

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/benchgate/benchgate/engine"
)

// State is what a slot's writer says it is doing.
type State int64

// The states of a slot.
const (
	Idle    State = iota // nothing published yet
	Running              // an execution publishes into the slot
	Done                 // the execution that published has finished
)

// String returns "idle", "running" or "done".
func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Running:
		return "running"
	case Done:
		return "done"
	}
	return fmt.Sprintf("State(%d)", int64(s))
}

// Slot is one shard's slot of a board, for that shard to write into.
type Slot struct {
	b *Board
	k int
	m *slotMem
}

// Shard is the slot's index.
func (s *Slot) Shard() int { return s.k }

// Board is the board the slot belongs to.
func (s *Slot) Board() *Board { return s.b }

// Live is the slot's counters as an engine.Live, lying in the shared
// mapping: give it to a plan (loadtest.Scoreboard or
// loadtest.LiveCounters) and every process sees the execution's
// counters. It must not be written after the board is closed.
func (s *Slot) Live() *engine.Live { return &s.m.live }

// Beat stamps the slot's heartbeat with the time now and the writer's
// pid.
func (s *Slot) Beat() {
	s.m.pid.Store(int64(os.Getpid()))
	s.m.heartbeat.Store(time.Now().UnixNano())
}

// HeartbeatEvery is how often a published slot's heartbeat is stamped.
const HeartbeatEvery = 100 * time.Millisecond

// Publish marks the slot Running and stamps its heartbeat every
// HeartbeatEvery until stop is called, which marks it Done (with a last
// beat) and returns once the heartbeat goroutine has ended. The board
// refuses to close until stop. Calling stop more than once is harmless.
// A slot of a closed board is refused.
func (s *Slot) Publish() (stop func(), err error) {
	s.b.mu.Lock()
	if s.b.closed {
		s.b.mu.Unlock()
		return nil, fmt.Errorf("scoreboard: %s: slot %d of a closed board", s.b.path, s.k)
	}
	s.b.publishing++
	s.b.mu.Unlock()
	s.Beat()
	s.m.state.Store(int64(Running))
	quit, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(HeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				s.Beat()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-ended
			s.Beat()
			s.m.state.Store(int64(Done))
			s.b.mu.Lock()
			s.b.publishing--
			s.b.mu.Unlock()
		})
	}, nil
}
