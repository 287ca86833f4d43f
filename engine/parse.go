package engine

import "github.com/benchgate/benchgate/internal/h1"

// Parse errors name what was wrong with the server's response; each is a
// failure.Parse (failure.KindOf). They are the HTTP/1 parser's own
// values, so errors.Is matches either name.
var (
	ErrHeaderTooLarge = h1.ErrHeaderTooLarge
	ErrBadStatusLine  = h1.ErrBadStatusLine
	ErrBadHeader      = h1.ErrBadHeader
	ErrBadChunk       = h1.ErrBadChunk
	ErrBadLength      = h1.ErrBadLength
	ErrBadFraming     = h1.ErrBadFraming
)

// The read buffers: 16 KiB for the slots executor's slots, which keep theirs
// and read bodies fast; 4 KiB (net/http's) for virtual users, thousands
// of which may wait for an answer at once.
var (
	slotBufs = h1.NewBufPool(16 << 10)
	vuBufs   = h1.NewBufPool(4 << 10)
)
