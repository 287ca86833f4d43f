// Package failure names why a request failed, was not sent or was
// interrupted, as a Kind a gate can test: the reason a person reads
// (engine.Result.Reason, loadtest.StepReport.Failures) may be reworded
// from one release to the next, the kind may not.
//
// Every failed, not-sent or interrupted request has exactly one kind,
// decided where the failure is known (a typed error from the network,
// TLS or the response parser, an expectation, an extractor, a time
// limit), never from the reason's text:
//
//	Expect(report).To(matchers.HaveFailuresOnly(failure.Status, failure.StepTimeLimit))
//
// A Kind's number and its word (String, and its form in JSON) are
// stable: new kinds get new numbers, and a kind is never renumbered or
// renamed.
package failure

import (
	"fmt"
	"strings"
)

// Kind is the kind of a failure. The zero value, None, is no failure.
type Kind uint8

// The kinds, with their stable numbers and words.
const (
	// None is no failure.
	None Kind = 0
	// Other is a failure none of the kinds below describes.
	Other Kind = 1
	// Status is a response whose HTTP status the step does not accept
	// (ExpectStatus, or 2xx and 3xx by default).
	Status Kind = 2
	// Expectation is a response that failed one of the step's
	// expectations on its body or headers (Expect).
	Expectation Kind = 3
	// Extraction is a response from which a value a later step needs
	// could not be extracted (Extract).
	Extraction Kind = 4
	// Connect is a connection that could not be opened: refused,
	// host or network unreachable, a proxy that refused the tunnel.
	Connect Kind = 5
	// ConnectTimeout is a connection not opened within the step's
	// connect timeout.
	ConnectTimeout Kind = 6
	// DNS is a host name that could not be resolved.
	DNS Kind = 7
	// TLS is a TLS handshake that failed: a certificate not trusted or
	// not for the host, a pin or OCSP check refused, an alert from the
	// server, a protocol not agreed on by ALPN.
	TLS Kind = 8
	// IOTimeout is a read or write that made no progress within the
	// step's I/O timeout.
	IOTimeout Kind = 9
	// StepTimeLimit is a request not answered within the step's time
	// limit.
	StepTimeLimit Kind = 10
	// Parse is a malformed response: a bad status line, header, chunk
	// or Content-Length, headers over the limit, an HTTP/2 frame or
	// stream that breaks the protocol.
	Parse Kind = 11
	// StreamReset is an HTTP/2 stream the server reset (RST_STREAM) or
	// left unprocessed when it sent GOAWAY.
	StreamReset Kind = 12
	// ConnectionClosed is a connection the server closed or reset
	// before the response was complete.
	ConnectionClosed Kind = 13
	// Interrupted is a request in flight when the execution was
	// cancelled or its time limit's grace period ended: neither good
	// nor failed.
	Interrupted Kind = 14
	// NotSent is a request that could not be built (an undefined
	// variable, a form not found, a hook's error): it never reached the
	// wire.
	NotSent Kind = 15
	// Redirect is a redirect the step could not follow: a Location
	// that is missing or not a URL, or the redirect limit reached.
	Redirect Kind = 16
	// Decode is a body whose Content-Encoding could not be undone.
	Decode Kind = 17

	numKinds = 18
)

var words = [numKinds]string{
	None:             "none",
	Other:            "other",
	Status:           "status",
	Expectation:      "expectation",
	Extraction:       "extraction",
	Connect:          "connect",
	ConnectTimeout:   "connect_timeout",
	DNS:              "dns",
	TLS:              "tls",
	IOTimeout:        "io_timeout",
	StepTimeLimit:    "step_time_limit",
	Parse:            "parse",
	StreamReset:      "stream_reset",
	ConnectionClosed: "connection_closed",
	Interrupted:      "interrupted",
	NotSent:          "not_sent",
	Redirect:         "redirect",
	Decode:           "decode",
}

// Kinds returns every kind but None, in the order of their numbers.
func Kinds() []Kind {
	ks := make([]Kind, 0, numKinds-1)
	for k := Other; k < numKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

// String returns the kind's stable word ("status", "connect_timeout",
// "step_time_limit"...), or "kind(n)" for a number no kind has.
func (k Kind) String() string {
	if k < numKinds {
		return words[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is one of the kinds (None included).
func (k Kind) Valid() bool { return k < numKinds }

// ParseKind returns the kind whose word is s, or an error naming s and the
// words there are.
func ParseKind(s string) (Kind, error) {
	for k, w := range words {
		if w == s {
			return Kind(k), nil
		}
	}
	return None, fmt.Errorf("unknown failure kind %q (kinds: %s)", s, strings.Join(words[1:], ", "))
}

// MarshalText writes the kind's word: a map of kinds is an object keyed
// by the words in JSON. A number no kind has is refused.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("failure kind %d is not a kind", uint8(k))
	}
	return []byte(words[k]), nil
}

// UnmarshalText reads a kind's word; an unknown word is an error that
// names it.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
