// Package loadtest is what users call: build a Plan of runs, Execute it,
// and read the Report: totals, per run and per step counts, per-iteration
// timings as HTTPD::Bench::ApacheBench keeps them, latency percentiles from mergeable
// histograms, and JSON in and out.
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
// The slots executor (ApacheBench's) runs by default; VirtualUsers runs
// HTTP::LoadGen's virtual users and ArrivalRate the open model. TLS
// (CAFile, ClientCert, TLSConfig), HTTP2, AcceptEncoding and
// FollowRedirects apply to every executor.
//
// Connections are kept alive between requests unless KeepAlive(false)
// (or a step's KeepAlive or KeepAliveMode) says otherwise, as browsers,
// k6, hey and oha do; `benchgate ab` keeps ApacheBench's default (a new
// connection per request; -k keeps them alive).
//
// Execute validates the whole plan first and sends nothing when it is
// invalid. Cancelling ctx or reaching the time limit stops sending and
// returns the partial Report measured so far.
package loadtest
