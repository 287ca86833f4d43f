// Package loadtest is what users call: build a Plan of runs, Execute it,
// and read the Report: totals, per run and per step counts, what each
// iteration kept of its requests (times, sizes, headers, bodies),
// latency percentiles from mergeable histograms, and JSON in and out.
//
//	plan := loadtest.New(
//		loadtest.Runs(
//			scenario.Run("home", scenario.Get("/")).Repeat(100),
//		),
//		loadtest.BaseURL(srv.URL),
//		loadtest.Concurrency(8),
//	)
//	report, err := plan.Execute(ctx)
//
// The slots executor (Concurrency connection slots draining the runs'
// requests) runs by default; VirtualUsers runs virtual users on a ramp
// (the closed model) and ArrivalRate the open model. TLS (CAFile,
// ClientCert, TLSConfig), HTTP2, AcceptEncoding and FollowRedirects
// apply to every executor.
//
// Connections are kept alive between requests unless KeepAlive(false)
// (or a step's KeepAlive or KeepAliveMode) says otherwise, as browsers,
// k6, hey and oha do; `benchgate ab` opens a new connection per request
// unless -k.
//
// Execute validates the whole plan first and sends nothing when it is
// invalid. Cancelling ctx or reaching the time limit stops sending and
// returns the partial Report measured so far.
//
// # Shards and merging
//
// A plan too large for one process or machine runs as N shards, each
// with the same plan and Shard(k, N) (and the same Seed): each Report
// then carries a manifest (Report.Shard: shard k/N, the plan's hash,
// the executable's hash, the histogram layout, the seed, the host, the
// process and its start), and Merge adds the N reports up into the
// report of the whole plan, which every matcher, a comparison, the JSON
// file, the HTML page and the summary take like any other.
// `benchgate merge -o merged.json shard-*.json` does the same with
// files.
//
// What is exact: every count (requests, responses, statuses, failure
// kinds, bytes) is the sum of the shards', and every latency histogram
// (per run, step, phase and time window) holds exactly the values one
// recorder would have held of all the shards' responses: the histograms
// have fixed buckets, so merging them is adding counters, and the
// percentiles of the merged report are those of all the responses, not
// an average of the shards' percentiles.
//
// What is not: times across machines are only as good as their clocks.
// The windows and the timeline are put on the earliest shard's clock by
// each shard's start; shards that started a non-whole number of windows
// apart have their windows moved to the nearest one (a warning says
// which shard and by how much), and TotalTime (from the earliest first
// request to the latest last response) carries the clocks' offsets.
// The per-request records stay in the shards' reports. An arrival
// rate's Rate is the sum of the shards' rates.
//
// Merge refuses, naming the reports and the values (errors wrap
// ErrInvalidReport): a report without a manifest, shards of another
// count, plan, seed or histogram layout, a shard missing or given
// twice, a report that carries an error or did not run to its end (a
// cancel, a deadline, an error, a failed hook: MergeOptions.AllowFailed),
// and shards run by different
// executables unless MergeOptions.AllowBinaryMismatch says they may be
// (CI jobs that each build the test binary).
//
// # For users of HTTPD::Bench::ApacheBench and HTTP::LoadGen
//
// The slots executor keeps HTTPD::Bench::ApacheBench's scheduling and
// per-iteration regression data; VirtualUsers is HTTP::LoadGen's model
// (package engine lists its names). Where the defaults differ:
// keep-alive is on (ab opens a connection per request without -k:
// KeepAlive(false)); a status other than 2xx or 3xx fails its step (ab
// counts non-2xx responses apart: DefaultStatus()). As in
// HTTPD::Bench::ApacheBench, redirects are not followed and nothing is
// asked compressed; HTTP10 sends HTTP/1.0 as ab and
// HTTPD::Bench::ApacheBench do.
//
//	HTTPD::Bench::ApacheBench              loadtest, scenario
//	HTTPD::Bench::ApacheBench->new         New
//	concurrency, priority                  Concurrency, WithPriority
//	"equal_opportunity", "run_priority"    EqualOpportunity, RunPriority
//	add_run, HTTPD::Bench::ApacheBench::Run->new  AddRun or Runs, scenario.Run
//	urls, repeat, order, cookies           scenario.Run's steps, RunDef.Repeat, Order, Cookies
//	memory 0 to 3                          RunDef.KeepLevel: KeepTotals, KeepTimes, KeepHeaders, KeepBodies
//	postdata (a sub of the previous page)  scenario.PostIfBody(url).BodyFunc
//	use_auto_cookies                       RunDef.AutoCookies
//	execute                                Plan.Execute
//	total_requests, total_time             Report.RequestsSent, Report.TotalTime
//	iteration(i)->response_times           RunReport.Iteration(i), Iteration.ResponseTimes
//	proxy URL http://proxy/http://real/    Proxy, or that URL form in a step
//
//	HTTP::LoadGen                          loadtest
//	loadgen with its threads and processes VirtualUsers(engine.VUs{...})
//	register_no_response_body_method/code  NoResponseBodyMethods, NoResponseBodyStatuses
//	HTTP::LoadGen::Logger with a formatter LogRequestsFormatted (TabSeparated: its line)
//	scoreboard                             LiveCounters (engine.Live)
//	IPC::ScoreBoard across processes       Scoreboard(slot) (package scoreboard)
package loadtest
