// Package engine sends a validated plan's requests and measures them.
//
// An Executor decides who sends what when. Slots gives ApacheBench's
// semantics: a fixed number of connection slots drain the runs' requests
// by priority and order. VUs is HTTP::LoadGen's model: virtual users on a
// ramp, in shards, each walking its run for its rounds with its own
// variables, cookies and pool of kept-alive connections (per origin), with think times, delays, hooks and
// iterators. Arrivals is the open model: iterations start on a schedule
// of iterations per second whatever the server does, and every request
// also carries its intended start, so latencies can be measured without
// coordinated omission.
//
// Each slot owns its connection, a buffered reader and its scratch
// buffers, writes HTTP/1.x requests and parses responses itself (HTTP/2
// goes through golang.org/x/net/http2's client connections), and streams
// one Result per request to a Recorder. Most users reach the engine
// through package loadtest.
package engine
