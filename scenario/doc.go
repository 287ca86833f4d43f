// Package scenario declares what a load test sends: runs of steps, their
// request templates, the values extracted from one response for the next
// request, and the checks that make a response count as good.
//
// Nothing here performs I/O. A Sequence (a "run") is an ordered list of
// steps repeated a number of times; each repetition is an iteration with
// its own variables and cookie jar. Later steps take their URL, headers or
// body from earlier responses through extractors (CSS selectors, regular
// expressions, headers, cookies, JSON fields), whole HTML forms, or a Go
// func of the previous response:
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
// step in the same iteration, or by Sequence.Vars.
package scenario
