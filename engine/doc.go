// Package engine sends a validated plan's requests and measures them.
//
// An Executor decides who sends what when; the slots executor gives
// ApacheBench's semantics: a fixed number of connection slots drain the
// runs' requests by priority and order. Each slot owns its connection, a
// buffered reader and its scratch buffers, writes HTTP/1.x requests and
// parses responses itself, and streams one Result per request to a
// Recorder. Most users reach the engine through package loadtest.
package engine
