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
