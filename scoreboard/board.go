package scoreboard

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/benchgate/benchgate/engine"
)

// Version is the file format's version, in every board's header.
const Version = 1

// MaxShards bounds a board's slots (8 MiB of slots).
const MaxShards = 1 << 16

const (
	headerSize = 128
	// SlotSize is the bytes of one shard's slot: two cache lines, so
	// that two shards' writers never share a line (nor the adjacent
	// line some processors fetch with it).
	SlotSize = 128
	magic    = "BGBOARD\n"
)

// Errors Open returns (wrapped with the file and the values).
var (
	ErrNotBoard  = errors.New("not a benchgate scoreboard")
	ErrLayout    = errors.New("scoreboard of another version or slot layout")
	ErrTruncated = errors.New("scoreboard file cut short")
	ErrOtherRun  = errors.New("scoreboard of another run")
)

// slotMem is one slot as it lies in the mapping. Its first words are an
// engine.Live, so that the engine's counters are the slot's.
type slotMem struct {
	live      engine.Live
	heartbeat atomic.Int64 // Unix nanoseconds of the last Beat
	pid       atomic.Int64 // the writer's process id
	state     atomic.Int64 // a State
	_         [SlotSize - liveSize - 3*8]byte
}

const liveSize = 8 * 8

// Compile-time checks: engine.Live is the 7 words the slot expects, and
// a slot is exactly SlotSize bytes. A field added to engine.Live breaks
// the build here, not a file.
var (
	_ [unsafe.Sizeof(engine.Live{}) - liveSize]byte
	_ [liveSize - unsafe.Sizeof(engine.Live{})]byte
	_ [unsafe.Sizeof(slotMem{}) - SlotSize]byte
	_ [SlotSize - unsafe.Sizeof(slotMem{})]byte
)

// layout fingerprints the slot's fields (names and offsets), so that a
// file written by a build with another slot layout is refused.
var layout = func() uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "slot=%d;", SlotSize)
	lt := reflect.TypeOf(engine.Live{})
	for i := 0; i < lt.NumField(); i++ {
		f := lt.Field(i)
		fmt.Fprintf(&b, "%s@%d;", f.Name, f.Offset)
	}
	b.WriteString("heartbeat@64;pid@72;state@80")
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	return h.Sum64()
}()

// Board is a scoreboard file mapped into this process. Its methods are
// safe for concurrent use.
type Board struct {
	path   string
	id     [16]byte
	shards int
	f      *os.File
	mem    []byte

	mu         sync.Mutex
	closed     bool
	publishing int // Slot.Publish calls not yet stopped
}

// Create makes a new board of shards slots at path, all counters zero,
// with a new run id (RunID), and maps it. A file already at path (a
// stale board of an earlier run, say) is replaced: the new board is
// written beside it and renamed over it, so that processes still
// mapping the old one do not write into the new one.
func Create(path string, shards int) (*Board, error) {
	if shards < 1 || shards > MaxShards {
		return nil, fmt.Errorf("scoreboard: shards %d: want 1 to %d", shards, MaxShards)
	}
	if !supported {
		return nil, fmt.Errorf("scoreboard: shared memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("scoreboard: run id: %w", err)
	}
	hdr := make([]byte, headerSize)
	copy(hdr, magic)
	ne := binary.NativeEndian
	ne.PutUint32(hdr[8:], Version)
	ne.PutUint32(hdr[12:], headerSize)
	ne.PutUint32(hdr[16:], SlotSize)
	ne.PutUint32(hdr[20:], uint32(shards))
	ne.PutUint64(hdr[24:], layout)
	copy(hdr[32:48], id[:])
	ne.PutUint64(hdr[48:], uint64(time.Now().UnixNano()))
	ne.PutUint64(hdr[56:], uint64(os.Getpid()))

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("scoreboard: create %s: %w", path, err)
	}
	size := int64(headerSize + shards*SlotSize)
	err = tmp.Truncate(size)
	if err == nil {
		_, err = tmp.WriteAt(hdr, 0)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("scoreboard: create %s: %w", path, err)
	}
	mem, err := mapFile(tmp, int(size))
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("scoreboard: map %s: %w", path, err)
	}
	return &Board{path: path, id: id, shards: shards, f: tmp, mem: mem}, nil
}

// Open maps the board at path made by Create for the run runID (the
// parent's Board.RunID). It refuses a file that is not a board, one of
// another version or slot layout, one cut short, and one of another run,
// naming the file and the values. An empty runID accepts any run: for
// readers that only look (benchgate board), never for a shard that
// writes.
func Open(path, runID string) (*Board, error) {
	if !supported {
		return nil, fmt.Errorf("scoreboard: shared memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: open: %w", err)
	}
	b, err := openFile(f, path, runID)
	if err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

func openFile(f *os.File, path, runID string) (*Board, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("scoreboard: %s: %w", path, err)
	}
	hdr := make([]byte, headerSize)
	n, _ := f.ReadAt(hdr, 0)
	if n < 8 || string(hdr[:8]) != magic {
		return nil, fmt.Errorf("scoreboard: %s: %w (no %q at the start)", path, ErrNotBoard, strings.TrimSpace(magic))
	}
	if n < headerSize {
		return nil, fmt.Errorf("scoreboard: %s: %w: %d bytes, the header alone is %d", path, ErrTruncated, st.Size(), headerSize)
	}
	ne := binary.NativeEndian
	if v := ne.Uint32(hdr[8:]); v != Version {
		return nil, fmt.Errorf("scoreboard: %s: %w: version %d, want %d", path, ErrLayout, v, Version)
	}
	if h, s, l := ne.Uint32(hdr[12:]), ne.Uint32(hdr[16:]), ne.Uint64(hdr[24:]); h != headerSize || s != SlotSize || l != layout {
		return nil, fmt.Errorf("scoreboard: %s: %w: header %d bytes, slot %d bytes, layout %x; want %d, %d, %x", path, ErrLayout, h, s, l, headerSize, SlotSize, layout)
	}
	shards := int(ne.Uint32(hdr[20:]))
	if shards < 1 || shards > MaxShards {
		return nil, fmt.Errorf("scoreboard: %s: %w: %d shards", path, ErrLayout, shards)
	}
	var id [16]byte
	copy(id[:], hdr[32:48])
	if runID != "" && runID != hex.EncodeToString(id[:]) {
		return nil, fmt.Errorf("scoreboard: %s: %w: run id %s, want %s (a file left by an earlier run?)", path, ErrOtherRun, hex.EncodeToString(id[:]), runID)
	}
	want := int64(headerSize + shards*SlotSize)
	if st.Size() < want {
		return nil, fmt.Errorf("scoreboard: %s: %w: %d bytes, %d shards need %d", path, ErrTruncated, st.Size(), shards, want)
	}
	if st.Size() > want {
		return nil, fmt.Errorf("scoreboard: %s: %w: %d bytes, %d shards need %d", path, ErrLayout, st.Size(), shards, want)
	}
	mem, err := mapFile(f, int(want))
	if err != nil {
		return nil, fmt.Errorf("scoreboard: map %s: %w", path, err)
	}
	return &Board{path: path, id: id, shards: shards, f: f, mem: mem}, nil
}

// Path is the board's file.
func (b *Board) Path() string { return b.path }

// RunID is the run the board was created for (32 hex digits): what
// Open is given by the shards.
func (b *Board) RunID() string { return hex.EncodeToString(b.id[:]) }

// Shards is the number of slots.
func (b *Board) Shards() int { return b.shards }

// Created is when Create made the board.
func (b *Board) Created() time.Time {
	return time.Unix(0, int64(binary.NativeEndian.Uint64(b.mem[48:])))
}

func (b *Board) slot(k int) *slotMem {
	return (*slotMem)(unsafe.Pointer(&b.mem[headerSize+k*SlotSize]))
}

// Slot is shard k's slot (from 0), for that shard to write into.
func (b *Board) Slot(k int) (*Slot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("scoreboard: %s: slot %d of a closed board", b.path, k)
	}
	if k < 0 || k >= b.shards {
		return nil, fmt.Errorf("scoreboard: %s: slot %d: want 0 to %d", b.path, k, b.shards-1)
	}
	return &Slot{b: b, k: k, m: b.slot(k)}, nil
}

// Counts is a snapshot of one slot.
type Counts struct {
	Shard int
	engine.LiveCounts
	// Began is when the shard's schedule began (zero before).
	Began time.Time
	// Heartbeat is the slot's last Beat (zero if none).
	Heartbeat time.Time
	PID       int
	State     State
}

// Read snapshots every slot, in shard order. Within a slot the
// completions are read before the starts, so Succeeded+Failed <= Started.
func (b *Board) Read() []Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	out := make([]Counts, b.shards)
	for k := range out {
		m := b.slot(k)
		c := Counts{Shard: k}
		c.Succeeded = m.live.Succeeded.Load()
		c.Failed = m.live.Failed.Load()
		c.HeaderBytes = m.live.HeaderBytes.Load()
		c.BodyBytes = m.live.BodyBytes.Load()
		c.BytesSent = m.live.BytesSent.Load()
		c.Started = m.live.Started.Load()
		c.ActiveVUs = m.live.ActiveVUs.Load()
		c.Began = unixTime(m.live.Began.Load())
		c.Heartbeat = unixTime(m.heartbeat.Load())
		c.PID = int(m.pid.Load())
		c.State = State(m.state.Load())
		out[k] = c
	}
	return out
}

// Total is the sum of every slot's counters (one Read added up).
func (b *Board) Total() engine.LiveCounts { return Sum(b.Read()) }

// Sum adds up snapshots' counters.
func Sum(cs []Counts) engine.LiveCounts {
	var t engine.LiveCounts
	for _, c := range cs {
		t.ActiveVUs += c.ActiveVUs
		t.Started += c.Started
		t.Succeeded += c.Succeeded
		t.Failed += c.Failed
		t.HeaderBytes += c.HeaderBytes
		t.BodyBytes += c.BodyBytes
		t.BytesSent += c.BytesSent
	}
	return t
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Close unmaps the board. Its slots' counters (Slot.Live) must no longer
// be written: Close refuses while a Slot.Publish of this board has not
// been stopped. Closing twice is not an error.
func (b *Board) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	if b.publishing > 0 {
		return fmt.Errorf("scoreboard: %s: close while %d slot(s) still publish (stop them first)", b.path, b.publishing)
	}
	b.closed = true
	err := unmapFile(b.mem)
	b.mem = nil
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove closes the board and removes its file (the parent's clean-up).
func (b *Board) Remove() error {
	if err := b.Close(); err != nil {
		return err
	}
	if err := os.Remove(b.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scoreboard: %w", err)
	}
	return nil
}
