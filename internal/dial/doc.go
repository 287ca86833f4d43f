// Package dial opens the engine's client connections: DNS (with a
// run's overrides and a once-per-host cache for each shard), TCP connect
// with a number of attempts, a proxy (an http:// proxy's CONNECT tunnel
// for https targets, an https:// proxy spoken to over TLS), and the TLS
// handshake with the configuration the caller built.
//
// A Dialer is safe for concurrent use; the engine holds one per run.
// Every error says what was being done, and is marked with its
// failure.Kind (DNS, Connect, TLS), except when a deadline or a cancel
// ended it: those belong to the time limit or the cancel, which the
// caller names.
package dial
