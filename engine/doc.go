// Package engine sends a validated plan's requests and measures them.
//
// An Executor decides who sends what when. Slots (the default): a fixed
// number of connection slots drain the runs' requests by priority and
// order, each slot sending its next request as soon as it is free. VUs:
// virtual users on a ramp, in shards, each walking its run for its
// rounds with its own variables, cookies and pool of kept-alive
// connections (per origin), with think times, delays, hooks and
// iterators. Arrivals is the open model: iterations start on a schedule
// of iterations per second whatever the server does, and every request
// also carries its intended start, so latencies can be measured without
// coordinated omission.
//
// Each slot owns its connection, a buffered reader and its scratch
// buffers, writes HTTP/1.x requests and parses responses itself
// (internal/h1; connections opened by internal/dial; HTTP/2 streams on
// internal/h2's connections; bodies decoded by internal/decode), and
// streams one Result per request to a
// Recorder. Most users reach the engine
// through package loadtest.
//
// # For users of HTTPD::Bench::ApacheBench and HTTP::LoadGen
//
// Slots keeps HTTPD::Bench::ApacheBench's scheduling: at concurrency 1
// the server sees exactly its request order. Plan.HTTP10 sends HTTP/1.0
// as ab does, and Plan.ConnectAttempts (10) tries a failed connect as
// often as ab.
//
// VUs is HTTP::LoadGen's model. Its names here:
//
//	HTTP::LoadGen                          engine
//	worker process (its own DNS cache)     shard (VUs.Shards)
//	thread                                 virtual user (VU)
//	times (<= 0: until stopped)            VUs.Rounds (RoundsForever)
//	random_start iterator                  VUs.RandomStart
//	follow iterator                        VUs.FollowRedirects (DefaultMaxRedirects)
//	InitURLs (iterator generator)          VUs.Iterate, StepIterator
//	ParentInit, ParentExit                 VUHooks.Before, After
//	ProcInit, ProcExit                     VUHooks.ShardInit, ShardExit
//	ReqStart, ReqDone                      VUHooks.RequestStart, RequestDone
//	done (from a handler)                  RequestEvent.EndVU
//	predelay, postdelay (with jitters)     scenario.Step.PreDelay, PostDelay
//	keepalive 0, 1 (use), 2 (store), 3     scenario.OpenThenClose, ReuseThenClose, OpenThenKeep, ReuseThenKeep
//	per-thread connection cache            a VU's kept connections (MaxKeptConns, unbounded there)
//	register_no_response_body_method/code  Plan.NoBodyMethods, NoBodyStatuses
//	scoreboard                             Live
//	status line text, header fields        Result.StatusText, Result.Fields
//	timestamps                             Result.Times
package engine
