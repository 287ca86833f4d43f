package failure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Error is an error whose kind is known where it was made. Its text is
// Err's: the kind never shows in a reason.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// FailureKind returns e.Kind.
func (e *Error) FailureKind() Kind { return e.Kind }

// Wrap returns err marked as a failure of kind k (nil for a nil err).
// KindOf returns the kind of the outermost marked error in a chain.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// New returns an error with text that is a failure of kind k: a
// sentinel that errors.Is finds and KindOf classifies.
func New(k Kind, text string) error { return &Error{Kind: k, Err: errors.New(text)} }

// Kinder is an error that says its own kind (Error, and the engine's
// own typed errors).
type Kinder interface {
	error
	FailureKind() Kind
}

// KindOf returns the kind of the failure err describes (None for nil):
// the kind of the first error in its chain that says its own (Kinder),
// else the kind of the typed errors of the standard library it wraps:
// *net.DNSError is DNS; TLS record, alert and certificate errors
// (crypto/tls, crypto/x509) are TLS; context.Canceled is Interrupted; a
// timeout is ConnectTimeout while dialing and IOTimeout otherwise; a
// dial that failed or a refused or unreachable address is Connect; an
// end of input, a reset or a broken pipe is ConnectionClosed. Anything
// else is Other. The text of err is never read.
func KindOf(err error) Kind {
	if err == nil {
		return None
	}
	var k Kinder
	if errors.As(err, &k) {
		return k.FailureKind()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return DNS
	}
	if isTLS(err) {
		return TLS
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	var op *net.OpError
	dial := errors.As(err, &op) && op.Op == "dial"
	if isTimeout(err) {
		if dial {
			return ConnectTimeout
		}
		return IOTimeout
	}
	if dial || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL) {
		return Connect
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed) {
		return ConnectionClosed
	}
	return Other
}

// isTimeout reports a deadline that passed.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLS reports an error of the TLS handshake or of the certificate
// check.
func isTLS(err error) bool {
	var (
		rh    tls.RecordHeaderError
		alert tls.AlertError
		cv    *tls.CertificateVerificationError
		ua    x509.UnknownAuthorityError
		he    x509.HostnameError
		ci    x509.CertificateInvalidError
		sr    x509.SystemRootsError
	)
	return errors.As(err, &rh) || errors.As(err, &alert) || errors.As(err, &cv) || errors.As(err, &ua) ||
		errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &sr)
}
