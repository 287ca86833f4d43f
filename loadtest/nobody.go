package loadtest

import (
	"fmt"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

// NoResponseBodyMethods registers request methods whose responses have
// no body, as HEAD's have: such a response ends with its
// headers, whatever Content-Length or Transfer-Encoding it states, so
// the engine never waits for a body that will not come. Methods are
// compared exactly, as sent. Bytes a server sends after such a response
// anyway are unexpected: the connection is closed with a warning, and
// they are never taken for the next response. As the server does not
// know of the registration, a response whose headers frame a body (a
// Content-Length other than 0, or a Transfer-Encoding) closes its
// connection after it, as NoResponseBodyStatuses' do: the body, sent
// perhaps late, is never read as the next response.
func NoResponseBodyMethods(methods ...string) Option {
	return func(p *Plan) { p.cfg.NoBodyMethods = append(p.cfg.NoBodyMethods, methods...) }
}

// NoResponseBodyStatuses registers response statuses that have no
// body, as 1xx, 204 and 304 have, with the same effect as
// NoResponseBodyMethods. Each must be from 100 to 999. As the server
// does not know of the registration, a response of such a status whose
// headers frame a body (a Content-Length other than 0, a
// Transfer-Encoding, or neither) closes its connection after it: the
// body it sends, perhaps late, is never read as the next response.
func NoResponseBodyStatuses(statuses ...int) Option {
	return func(p *Plan) { p.cfg.NoBodyStatuses = append(p.cfg.NoBodyStatuses, statuses...) }
}

// noBodyErrors checks the registered methods and statuses.
func (p *Plan) noBodyErrors() []error {
	var errs []error
	for _, m := range p.cfg.NoBodyMethods {
		if !isToken(m) {
			errs = append(errs, &scenario.ValidationError{Field: "NoResponseBodyMethods", Value: fmt.Sprintf("%q", m), Reason: "not an HTTP method token"})
		}
	}
	for _, st := range p.cfg.NoBodyStatuses {
		if st < 100 || st > 999 {
			errs = append(errs, &scenario.ValidationError{Field: "NoResponseBodyStatuses", Value: fmt.Sprint(st), Reason: "a status is from 100 to 999"})
		}
	}
	return errs
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
