package loadtest

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Outcome is what an assertion on a report came to.
type Outcome string

// The outcomes.
const (
	// Passed: the matcher matched and nothing failed.
	Passed Outcome = "pass"
	// Failed: the assertion failed the spec (Gomega asked the matcher
	// for its failure message).
	Failed Outcome = "fail"
	// Refused: the matcher gave no verdict (it returned an error: a
	// saturated generator, an inconclusive comparison, bad input).
	Refused Outcome = "refused"
	// NoMatch: the matcher did not match and no failure was reported:
	// an assertion with NotTo that passed, or a poll that Eventually
	// retried.
	NoMatch Outcome = "no match"
)

// Assertion is one matcher's verdict on a report. The matchers of
// package matchers record one on the report (or the report of the run
// or step) they are given, so that a page written after the assertions
// (WriteHTML) shows them.
type Assertion struct {
	// Matcher is what was asserted: "HavePercentileBelow(95, 200ms)".
	Matcher string
	// Subject is what it was asserted on: "report", a run, a step.
	Subject string
	Outcome Outcome
	// Message is the failure message or why there is no verdict ("" on
	// a pass), at most MaxAssertionMessage bytes.
	Message string
	// Comparison is the comparison the assertion made (NotRegressFrom),
	// nil for the others: its WriteHTML draws it.
	Comparison *Comparison
}

// MaxAssertions is how many assertions a report keeps: past it the
// oldest are dropped (and counted), so a spec that polls a report in a
// loop cannot grow it without bound.
const MaxAssertions = 200

// MaxAssertionMessage bounds an assertion's message in bytes.
const MaxAssertionMessage = 8 << 10

// assertionLog is a report's bounded record of assertions.
type assertionLog struct {
	first   int // the id of entries[0]
	entries []Assertion
}

// assertionsMu guards every report's assertion log: assertions are few
// (a handful per spec), so one lock serves them all, and a Report stays
// a plain value that copies without a lock in it.
var assertionsMu sync.Mutex

// RecordAssertion keeps a on the report and returns its id, for
// ResolveAssertion. It is safe for concurrent use; past MaxAssertions
// the oldest record is dropped. The matchers of package matchers call
// it; a matcher of your own may too.
func (r *Report) RecordAssertion(a Assertion) int {
	if r == nil {
		return -1
	}
	a.Message = clip(a.Message)
	assertionsMu.Lock()
	defer assertionsMu.Unlock()
	if r.assertions == nil {
		r.assertions = &assertionLog{}
	}
	l := r.assertions
	if len(l.entries) == MaxAssertions {
		copy(l.entries, l.entries[1:])
		l.entries = l.entries[:MaxAssertions-1]
		l.first++
	}
	l.entries = append(l.entries, a)
	return l.first + len(l.entries) - 1
}

// ResolveAssertion sets the outcome and message of the assertion id
// (from RecordAssertion), when Gomega reports the failure it had not
// reported yet at the match. An id dropped since does nothing.
func (r *Report) ResolveAssertion(id int, o Outcome, message string) {
	if r == nil {
		return
	}
	message = clip(message)
	assertionsMu.Lock()
	defer assertionsMu.Unlock()
	if l := r.assertions; l != nil && id >= l.first && id < l.first+len(l.entries) {
		l.entries[id-l.first].Outcome, l.entries[id-l.first].Message = o, message
	}
}

// Assertions returns the assertions recorded on the report, oldest
// first, and how many older ones were dropped (MaxAssertions).
func (r *Report) Assertions() (kept []Assertion, dropped int) {
	if r == nil {
		return nil, 0
	}
	assertionsMu.Lock()
	defer assertionsMu.Unlock()
	if l := r.assertions; l != nil {
		return append([]Assertion(nil), l.entries...), l.first
	}
	return nil, 0
}

// clip bounds a message at MaxAssertionMessage bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= MaxAssertionMessage {
		return s
	}
	cut := MaxAssertionMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " \n") + " …"
}
