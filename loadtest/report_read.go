package loadtest

import (
	"io"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"
)

// Reading a report's time windows without encoding/json: they are most
// of a long execution's file (a 10-minute run of 4 steps has 12,000, 4
// MB of its 4.5) and encoding/json reads them at about 20 MB/s. The
// windows arrays are cut out of the text and read here; encoding/json
// reads the rest, and each step gets its windows back. Whatever this
// reader does not read exactly as encoding/json would (anything but the
// plain form WriteJSON writes: escapes in keys, keys in other case or
// repeated, another field in a window, a histogram that does not
// decode), it leaves the whole text to encoding/json: the report is then
// the same, and so is the error (FuzzReadJSONCutWindows compares them).

// windowsCut is the windows of step k of run i, cut out of the text.
type windowsCut struct {
	run, step int
	windows   []Window
}

// windowCutter walks a report's JSON, copying it to out less the
// windows arrays' contents. Its methods report false when the text is
// not in the form it reads; nothing it read is then used.
type windowCutter struct {
	p    jsonParser
	out  []byte
	last int // data[last:] is not yet copied to out
	cuts []windowsCut
	lats []Latency // the windows' histograms, made in blocks
	// pending are the histograms read and not yet decoded
	pending []pendingLatency
}

// pendingLatency is a window's histogram and its JSON, to decode.
type pendingLatency struct {
	l *Latency
	j latencyJSON
}

// decodePending decodes the histograms, on up to GOMAXPROCS goroutines
// (each has its own; all have returned when it does): false when one
// does not decode (encoding/json then gives the error).
func decodePending(pending []pendingLatency) bool {
	const chunk = 512
	workers := min(runtime.GOMAXPROCS(0), 8, (len(pending)+chunk-1)/chunk)
	if workers <= 1 {
		for i := range pending {
			if pending[i].l.setJSON(pending[i].j) != nil {
				return false
			}
		}
		return true
	}
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				from := int(next.Add(chunk)) - chunk
				if from >= len(pending) {
					return
				}
				for i := from; i < min(from+chunk, len(pending)); i++ {
					if pending[i].l.setJSON(pending[i].j) != nil {
						failed.Store(true)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return !failed.Load()
}

// maxCutDepth is the nesting the cutter follows; deeper texts are left
// to encoding/json.
const maxCutDepth = 64

// cutWindows returns data without its steps' windows arrays' contents
// and the windows it cut, or ok false (data is then to be read whole).
func cutWindows(data []byte) (reduced []byte, cuts []windowsCut, ok bool) {
	c := &windowCutter{p: jsonParser{b: data}}
	c.p.space()
	var runsSeen int
	if !c.object(func(key string) bool {
		return c.field(key, "runs", &runsSeen, func() bool {
			return c.array(func(i int) bool {
				if c.p.peek() != '{' {
					return c.skip(2)
				}
				var stepsSeen int
				return c.object(func(key string) bool {
					return c.field(key, "steps", &stepsSeen, func() bool {
						return c.array(func(k int) bool {
							if c.p.peek() != '{' {
								return c.skip(4)
							}
							var windowsSeen int
							return c.object(func(key string) bool {
								return c.field(key, "windows", &windowsSeen, func() bool { return c.windows(i, k) }, 5)
							}, 4, true)
						}, 3)
					}, 3)
				}, 2, true)
			}, 1)
		}, 1)
	}, 0, true) || !c.p.end() || !decodePending(c.pending) {
		return nil, nil, false
	}
	if len(c.cuts) == 0 {
		return data, nil, true
	}
	return append(c.out, data[c.last:]...), c.cuts, true
}

// field reads the value of key: with read when key is name, skipped
// otherwise; false for a key encoding/json would take for name in
// another case (it matches names case-insensitively), and for name's
// second time (encoding/json would take the last).
func (c *windowCutter) field(key, name string, seen *int, read func() bool, depth int) bool {
	switch {
	case key == name:
		if *seen++; *seen > 1 {
			return false
		}
		return read()
	case len(key) == len(name) && equalFoldASCII(key, name):
		return false
	}
	return c.skip(depth)
}

func equalFoldASCII(a, b string) bool {
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// object reads an object, calling value for each key with the parser
// at the value (after the white space). In a structural object (the
// report, a run, a step, a window) a key must be plain ASCII without
// escapes: encoding/json folds case, Unicode's included, when it
// matches keys to fields.
func (c *windowCutter) object(value func(key string) bool, depth int, structural bool) bool {
	if depth > maxCutDepth || !c.p.byte('{') {
		return false
	}
	for first := true; ; first = false {
		c.p.space()
		if c.p.byte('}') {
			return true
		}
		if !first && (!c.p.byte(',') || !c.p.spaceThen()) {
			return false
		}
		var key string
		ok := true
		if structural {
			key, ok = c.p.plainString()
		} else {
			ok = c.p.anyString()
		}
		if !ok || !c.p.spaceThen() || !c.p.byte(':') || !c.p.spaceThen() {
			return false
		}
		if !value(key) {
			return false
		}
	}
}

// array reads an array, calling elem for each element with the parser
// at it.
func (c *windowCutter) array(elem func(i int) bool, depth int) bool {
	if depth > maxCutDepth || !c.p.byte('[') {
		return c.p.peek() == 'n' && c.p.literal("null")
	}
	for i := 0; ; i++ {
		c.p.space()
		if c.p.byte(']') {
			return true
		}
		if i > 0 && (!c.p.byte(',') || !c.p.spaceThen()) {
			return false
		}
		if !elem(i) {
			return false
		}
	}
}

// skip reads any JSON value.
func (c *windowCutter) skip(depth int) bool {
	if depth > maxCutDepth {
		return false
	}
	switch ch := c.p.peek(); {
	case ch == '{':
		return c.object(func(string) bool { return c.skip(depth + 1) }, depth, false)
	case ch == '[':
		return c.array(func(int) bool { return c.skip(depth + 1) }, depth)
	case ch == '"':
		return c.p.anyString()
	case ch == 't':
		return c.p.literal("true")
	case ch == 'f':
		return c.p.literal("false")
	case ch == 'n':
		return c.p.literal("null")
	default:
		_, ok := c.p.number()
		return ok
	}
}

// windows reads a step's windows array, in the form WriteJSON writes:
// objects of the keys good, failed and latency, each at most once.
func (c *windowCutter) windows(run, step int) bool {
	if c.p.peek() != '[' {
		return c.skip(5)
	}
	open := c.p.i
	var ws []Window
	if !c.array(func(int) bool {
		var w Window
		var seen [3]bool
		if !c.object(func(key string) bool {
			var k int
			ok := true
			switch key {
			case "good":
				k = 0
				w.Good, ok = c.p.int64()
			case "failed":
				k = 1
				w.Failed, ok = c.p.int64()
			case "latency":
				k = 2
				start := c.p.i
				if !c.skip(7) {
					return false
				}
				var j latencyJSON
				if !parseLatencyJSON(c.p.b[start:c.p.i], &j) {
					return false
				}
				if len(c.lats) == 0 {
					c.lats = make([]Latency, 256)
				}
				l := &c.lats[0]
				c.lats = c.lats[1:]
				c.pending = append(c.pending, pendingLatency{l, j}) // decoded after the walk
				w.Latency = l
			default:
				return false
			}
			if !ok || seen[k] {
				return false
			}
			seen[k] = true
			return true
		}, 6, true) {
			return false
		}
		ws = append(ws, w)
		return true
	}, 5) {
		return false
	}
	if len(ws) == 0 {
		return true // [] or null: encoding/json reads it
	}
	c.out = append(c.out, c.p.b[c.last:open]...)
	c.out = append(c.out, "[]"...)
	c.last = c.p.i
	c.cuts = append(c.cuts, windowsCut{run, step, ws})
	return true
}

// readAll reads rd whole, in one allocation when rd says its size (a
// file, a bytes.Reader).
func readAll(rd io.Reader) ([]byte, error) {
	size := -1
	switch f := rd.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = int(st.Size())
		}
	case interface{ Len() int }:
		size = f.Len()
	}
	if size < 0 || size > 1<<30 {
		return io.ReadAll(rd)
	}
	buf := make([]byte, 0, size+1) // +1: EOF is seen without growing
	for {
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
