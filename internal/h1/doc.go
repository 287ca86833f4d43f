// Package h1 is the HTTP/1.x wire format of the engine's client: the
// response parser (status line, headers, Content-Length, chunked and
// close-delimited framing, interim responses, limits) and the
// request-head writer.
//
// Everything here is a function or type over byte slices and an
// io.Reader: no connection, no executor, no clock beyond the times a
// Parser records. The engine owns the connections and calls in; a
// Parser serves both a blocking connection (ReadResponse) and an event
// loop that fills its buffer (Space, Filled, Step).
//
// The parser's rule is the load tester's: a response never answers
// another request. A connection is reusable only when KeepAlive is true
// and Leftover is empty; FuzzPipelined checks that property.
package h1
