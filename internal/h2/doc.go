// Package h2 is the engine's HTTP/2 client connection, on x/net's
// framer and HPACK codec: h2c with prior knowledge, or h2 over a TLS
// connection that negotiated it by ALPN (internal/dial).
//
// Each sender (the engine's slot) sends its request as a Stream from
// its own goroutine: frames are appended to the connection's write
// buffer under a lock, and the buffer is written by whichever sender
// finds no write in progress, so streams that arrive during a write go
// out together with the next one and none waits for a timer (see
// gather). One goroutine per connection (ReadLoop) reads the frames,
// keeps the settings and flow-control windows, and hands each stream
// its headers, body and end. A request's send time is when the write
// that carried its last frame returned (Conn.WroteAt).
//
// A Conn's life: Start (preface and the server's SETTINGS), ReadLoop on
// a goroutine of the caller's, Open a stream per request (SendBody for
// a body larger than the windows, Take and Wake for the response,
// Refund for the window, Cancel to give up), Retire or Fail to end it.
// A stream the server never processed ends with an Unprocessed error,
// which the caller may send again on another connection.
package h2
