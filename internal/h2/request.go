package h2

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/internal/h1"
)

// connectionFields are HTTP/1's connection-specific header fields, which
// HTTP/2 forbids (RFC 9113 §8.2.2).
var connectionFields = []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}

// AppendRequestFields appends to dst the HTTP/2 header fields of an
// HTTP/1.1 request head (its request line and field lines, each ended
// by CRLF but the last, without the blank line): the pseudo-header
// fields first (:authority from a Host field, else authority; :path
// from an absolute-form target's path), then the other fields in lower
// case, without HTTP/1's connection-specific fields and any TE but
// "trailers".
func AppendRequestFields(dst []hpack.HeaderField, head []byte, authority, scheme string) ([]hpack.HeaderField, error) {
	lines := bytes.Split(head, []byte("\r\n"))
	reqLine := bytes.SplitN(lines[0], []byte(" "), 3)
	if len(reqLine) != 3 {
		return nil, fmt.Errorf("http2: the request line as built is malformed: %q", h1.Clip(lines[0]))
	}
	method, path := string(reqLine[0]), string(reqLine[1])
	if method == "CONNECT" {
		return nil, errors.New("http2: CONNECT requests are not supported")
	}
	if i := bytes.Index(reqLine[1], []byte("://")); i >= 0 && path[0] != '/' {
		// absolute form (a proxy's): the path is what follows the authority
		rest := path[i+3:]
		if j := bytes.IndexByte([]byte(rest), '/'); j >= 0 {
			path = rest[j:]
		} else {
			path = "/"
		}
	}
	fields := append(dst,
		hpack.HeaderField{Name: ":method", Value: method},
		hpack.HeaderField{Name: ":authority", Value: authority},
		hpack.HeaderField{Name: ":scheme", Value: scheme},
		hpack.HeaderField{Name: ":path", Value: path})
	auth := len(dst) + 1
	for _, line := range lines[1:] {
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("http2: a header line as built is malformed: %q", h1.Clip(line))
		}
		name := string(bytes.ToLower(line[:colon]))
		value := string(bytes.TrimSpace(line[colon+1:]))
		switch {
		case name == "host":
			fields[auth].Value = value
			continue
		case name == "te" && value != "trailers":
			continue
		}
		skip := false
		for _, cf := range connectionFields {
			if name == cf {
				skip = true
			}
		}
		if !skip {
			fields = append(fields, hpack.HeaderField{Name: name, Value: value})
		}
	}
	return fields, nil
}
