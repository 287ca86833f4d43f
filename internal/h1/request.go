package h1

import (
	"strconv"
	"strings"
)

// Field is one header field of a request.
type Field struct{ Name, Value string }

// RequestHead is a request head as AppendRequestHead writes it: the
// request line, the default fields the engine sends, and the step's
// own fields.
type RequestHead struct {
	Method     string
	RequestURI string // origin form ("/path?q"), or absolute form through a proxy
	HTTP10     bool   // HTTP/1.0 instead of HTTP/1.1
	KeepAlive  bool   // ask to keep the connection open after the response

	Host               string   // the Host field's value
	UserAgent          string   // "" sends none
	AcceptEncoding     []string // nil sends none
	Authorization      string   // "" sends none
	ProxyAuthorization string   // "" sends none

	// Body says the request has a body of BodyLen bytes, sent with
	// Content-Length and, unless empty, ContentType.
	Body        bool
	BodyLen     int
	ContentType string

	// Extra are the step's own fields, written last; one named Host,
	// User-Agent, Accept, Accept-Encoding, Authorization or Content-Type
	// (in any case) replaces the default of that name.
	Extra []Field
}

// AppendRequestHead appends h's request line and fields to dst, each
// line ended by CRLF, without the blank line that ends the head (the
// caller adds its Cookie field first).
func AppendRequestHead(dst []byte, h *RequestHead) []byte {
	dst = append(dst, h.Method...)
	dst = append(dst, ' ')
	dst = append(dst, h.RequestURI...)
	if h.HTTP10 {
		dst = append(dst, " HTTP/1.0\r\n"...)
	} else {
		dst = append(dst, " HTTP/1.1\r\n"...)
	}
	has := func(name string) bool {
		for _, f := range h.Extra {
			if strings.EqualFold(f.Name, name) {
				return true
			}
		}
		return false
	}
	if !has("Host") {
		dst = append(dst, "Host: "...)
		dst = append(dst, h.Host...)
		dst = append(dst, "\r\n"...)
	}
	if !has("User-Agent") && h.UserAgent != "" {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, h.UserAgent...)
		dst = append(dst, "\r\n"...)
	}
	if !has("Accept") {
		dst = append(dst, "Accept: */*\r\n"...)
	}
	if len(h.AcceptEncoding) > 0 && !has("Accept-Encoding") {
		dst = append(dst, "Accept-Encoding: "...)
		for i, e := range h.AcceptEncoding {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, e...)
		}
		dst = append(dst, "\r\n"...)
	}
	if h.Authorization != "" && !has("Authorization") {
		dst = append(dst, "Authorization: "...)
		dst = append(dst, h.Authorization...)
		dst = append(dst, "\r\n"...)
	}
	switch {
	case h.HTTP10 && h.KeepAlive:
		dst = append(dst, "Connection: Keep-Alive\r\n"...)
	case !h.HTTP10 && !h.KeepAlive:
		dst = append(dst, "Connection: close\r\n"...)
	}
	if h.ProxyAuthorization != "" {
		dst = append(dst, "Proxy-Authorization: "...)
		dst = append(dst, h.ProxyAuthorization...)
		dst = append(dst, "\r\n"...)
	}
	if h.Body {
		if !has("Content-Type") && h.ContentType != "" {
			dst = append(dst, "Content-Type: "...)
			dst = append(dst, h.ContentType...)
			dst = append(dst, "\r\n"...)
		}
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(h.BodyLen), 10)
		dst = append(dst, "\r\n"...)
	}
	for _, f := range h.Extra {
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}
