// Package scenario declares what a load test sends: runs of steps, their
// request templates, the values extracted from one response for the next
// request, and the checks that make a response count as good.
//
// Nothing here performs I/O. A run (Run returns a *RunDef) is an ordered
// list of steps repeated a number of times; each repetition is an
// iteration with its own variables and cookie jar. Later steps take
// their URL, headers or body from earlier responses through extractors
// (CSS selectors, regular expressions, headers, cookies, JSON fields),
// whole HTML forms, or a Go func of the previous response:
//
//	login := scenario.Run("login",
//		scenario.Get("/login"),
//		scenario.Submit(scenario.FormFrom("form#login").
//			Set("user", "alice").Set("password", "secret")),
//		scenario.Get("/cart").ExpectStatus(200),
//	).Repeat(20)
//
// Strings in URLs, header values, bodies and form fields may refer to
// variables as {{name}}; a variable is set by an extractor of an earlier
// step in the same iteration, or by RunDef.Vars.
//
// # For users of HTTPD::Bench::ApacheBench and HTTP::LoadGen
//
// A run is what HTTPD::Bench::ApacheBench calls a run (an HTTP request
// sequence); its settings and a request's keep-alive values map so:
//
//	HTTPD::Bench::ApacheBench::Run->new    Run(name, steps...) (a *RunDef)
//	urls                                   the steps: Get, Post, PostIfBody, ...
//	postdata (undef: no body)              Step.Body, Step.BodyFunc (ok false: no body)
//	the method a body implies              PostIfBody, PostIfBodyElseHead
//	repeat, order, cookies                 RunDef.Repeat, Order (BreadthFirst, DepthFirst), Cookies
//	use_auto_cookies                       RunDef.AutoCookies
//	memory 0, 1, 2, 3                      KeepLevel: KeepTotals, KeepTimes, KeepHeaders, KeepBodies
//
//	HTTP::LoadGen                          scenario
//	keepalive 0, 1 (use), 2 (store), 3     KeepAliveMode: OpenThenClose, ReuseThenClose, OpenThenKeep, ReuseThenKeep
//	predelay, prejitter                    Step.PreDelay(delay, jitter)
//	postdelay and its jitter               Step.PostDelay(delay, jitter)
package scenario
