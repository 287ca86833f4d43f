package loadtest

import (
	"strconv"
	"unsafe"
)

// parseLatencyJSON reads what MarshalJSON writes, without reflection:
// a base64 string, or an object of the keys latencyJSON names, each at
// most once, with integers for min_us and max_us and numbers for the
// sums. It reports false for anything else (escapes, other or repeated
// keys, null, another form of number), which encoding/json then reads:
// what it accepts, encoding/json reads the same way.
func parseLatencyJSON(b []byte, j *latencyJSON) bool {
	p := jsonParser{b: b}
	p.space()
	if p.peek() == '"' {
		s, ok := p.base64String()
		if !ok || !p.end() {
			return false
		}
		j.Hdr = s
		return true
	}
	if !p.byte('{') {
		return false
	}
	var seen [5]bool
	for first := true; ; first = false {
		p.space()
		if p.byte('}') {
			return !first && p.end() // "{}" is left to encoding/json
		}
		if !first && (!p.byte(',') || !p.spaceThen()) {
			return false
		}
		key, ok := p.plainString()
		if !ok || !p.spaceThen() || !p.byte(':') || !p.spaceThen() {
			return false
		}
		var k int
		switch key {
		case "hdr":
			k = 0
			j.Hdr, ok = p.base64String()
		case "min_us":
			k = 1
			j.Min, ok = p.int64()
		case "max_us":
			k = 2
			j.Max, ok = p.int64()
		case "sum_us":
			k = 3
			j.Sum, ok = p.float64()
		case "sum_squares_us":
			k = 4
			j.SumSquares, ok = p.float64()
		default:
			return false
		}
		if !ok || seen[k] {
			return false
		}
		seen[k] = true
	}
}

// jsonParser reads the plain JSON benchgate writes; every method reports
// false for what it does not read exactly as encoding/json would.
type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// spaceThen skips white space and reports true (to chain).
func (p *jsonParser) spaceThen() bool { p.space(); return true }

func (p *jsonParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *jsonParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// Byte classes of the strings the fast reader takes whole: printable
// ASCII without escapes (keys), and base64's alphabet (histograms).
var plainBytes, base64Bytes = func() (plain, b64 [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" {
		b64[c] = true
	}
	return plain, b64
}()

// plainString reads a string of printable ASCII without escapes; the
// result aliases the input.
func (p *jsonParser) plainString() (string, bool) { return p.classString(&plainBytes) }

// base64String reads a string of base64's characters; the result
// aliases the input (decodeLatency keeps nothing of it).
func (p *jsonParser) base64String() (string, bool) { return p.classString(&base64Bytes) }

// classString reads a string whose bytes are all of class; the result
// aliases the input.
func (p *jsonParser) classString(class *[256]bool) (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			return unsafe.String(unsafe.SliceData(s), len(s)), true
		}
		if !class[c] {
			return "", false
		}
		p.i++
	}
	return "", false
}

// number returns the text of a JSON number.
func (p *jsonParser) number() ([]byte, bool) {
	start := p.i
	p.byte('-')
	switch {
	case p.byte('0'):
	case '1' <= p.peek() && p.peek() <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.byte('.') {
		if !p.digits() {
			return nil, false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return nil, false
		}
	}
	return p.b[start:p.i], true
}

func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// int64 reads an integer (no fraction, no exponent) that fits.
func (p *jsonParser) int64() (int64, bool) {
	s, ok := p.number()
	if !ok {
		return 0, false
	}
	for _, c := range s {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(s), len(s)), 10, 64)
	return n, err == nil
}

// float64 reads a number that fits a float64.
func (p *jsonParser) float64() (float64, bool) {
	s, ok := p.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(s), len(s)), 64)
	return f, err == nil
}

// anyString reads a valid JSON string.
func (p *jsonParser) anyString() bool {
	if !p.byte('"') {
		return false
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i >= len(p.b) {
				return false
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if p.i+4 > len(p.b) {
					return false
				}
				for _, h := range p.b[p.i : p.i+4] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				p.i += 4
			default:
				return false
			}
		}
	}
	return false
}

// literal reads the word s (true, false, null).
func (p *jsonParser) literal(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}
