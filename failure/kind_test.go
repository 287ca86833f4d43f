package failure_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/benchgate/benchgate/failure"
)

// TestKindsStable: every kind's number and word are what they were
// released as: a report written by one release reads in the next, and a
// gate written against a kind keeps its meaning.
func TestKindsStable(t *testing.T) {
	want := []struct {
		k    failure.Kind
		n    uint8
		word string
	}{
		{failure.None, 0, "none"}, {failure.Other, 1, "other"}, {failure.Status, 2, "status"},
		{failure.Expectation, 3, "expectation"}, {failure.Extraction, 4, "extraction"}, {failure.Connect, 5, "connect"},
		{failure.ConnectTimeout, 6, "connect_timeout"}, {failure.DNS, 7, "dns"}, {failure.TLS, 8, "tls"},
		{failure.IOTimeout, 9, "io_timeout"}, {failure.StepTimeLimit, 10, "step_time_limit"}, {failure.Parse, 11, "parse"},
		{failure.StreamReset, 12, "stream_reset"}, {failure.ConnectionClosed, 13, "connection_closed"},
		{failure.Interrupted, 14, "interrupted"}, {failure.NotSent, 15, "not_sent"}, {failure.Redirect, 16, "redirect"},
		{failure.Decode, 17, "decode"},
	}
	if got := len(failure.Kinds()); got != len(want)-1 {
		t.Errorf("Kinds() has %d kinds, the table %d: add the new kind here", got, len(want)-1)
	}
	for _, w := range want {
		if uint8(w.k) != w.n || w.k.String() != w.word || !w.k.Valid() {
			t.Errorf("kind %d: number %d, word %q, want %d %q", w.k, uint8(w.k), w.k.String(), w.n, w.word)
		}
		back, err := failure.ParseKind(w.word)
		if err != nil || back != w.k {
			t.Errorf("ParseKind(%q) = %v, %v", w.word, back, err)
		}
	}
	if k := failure.Kind(200); k.Valid() || k.String() != "kind(200)" {
		t.Errorf("kind 200: valid %v, %q", k.Valid(), k)
	}
}

// TestKindJSON: a map of kinds is an object keyed by the words, read
// back as it was; an unknown word or number is refused with its name.
func TestKindJSON(t *testing.T) {
	m := map[failure.Kind]int64{failure.Status: 3, failure.StepTimeLimit: 1}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"status":3,"step_time_limit":1}` {
		t.Errorf("JSON %s", b)
	}
	var back map[failure.Kind]int64
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 2 || back[failure.Status] != 3 || back[failure.StepTimeLimit] != 1 {
		t.Errorf("read back %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"statuss":1}`), &back); err == nil || !strings.Contains(err.Error(), `unknown failure kind "statuss"`) {
		t.Errorf("an unknown word: %v", err)
	}
	if _, err := json.Marshal(map[failure.Kind]int64{failure.Kind(99): 1}); err == nil {
		t.Error("kind 99 written")
	}
}

// TestKindOf: the kind comes from the typed errors of the standard
// library and from errors that say their own, wherever they sit in the
// chain.
func TestKindOf(t *testing.T) {
	dialRefused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	readReset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	cases := []struct {
		name string
		err  error
		want failure.Kind
	}{
		{"nil", nil, failure.None},
		{"an error of no known type", errors.New("something"), failure.Other},
		{"DNS", fmt.Errorf("resolve x: %w", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), failure.DNS},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}, failure.DNS},
		{"unknown authority", fmt.Errorf("tls: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), failure.TLS},
		{"wrong host", x509.HostnameError{Host: "x"}, failure.TLS},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, failure.TLS},
		{"an alert", tls.AlertError(40), failure.TLS},
		{"refused", fmt.Errorf("connect: %w", dialRefused), failure.Connect},
		{"refused errno", syscall.ECONNREFUSED, failure.Connect},
		{"unreachable", os.NewSyscallError("connect", syscall.EHOSTUNREACH), failure.Connect},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, failure.ConnectTimeout},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, failure.IOTimeout},
		{"context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), failure.IOTimeout},
		{"cancel", fmt.Errorf("x: %w", context.Canceled), failure.Interrupted},
		{"reset", fmt.Errorf("read response: %w", readReset), failure.ConnectionClosed},
		{"EOF", fmt.Errorf("status line: %w", io.EOF), failure.ConnectionClosed},
		{"unexpected EOF", fmt.Errorf("body: %w after 10 bytes", io.ErrUnexpectedEOF), failure.ConnectionClosed},
		{"broken pipe", os.NewSyscallError("write", syscall.EPIPE), failure.ConnectionClosed},
		{"marked", failure.Wrap(failure.StreamReset, errors.New("RST_STREAM")), failure.StreamReset},
		{"marked, wrapped", fmt.Errorf("read: %w", failure.New(failure.Parse, "malformed")), failure.Parse},
		{"the outermost mark wins", failure.Wrap(failure.StreamReset, fmt.Errorf("after GOAWAY: %w", io.EOF)), failure.StreamReset},
	}
	for _, tc := range cases {
		if got := failure.KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf(%v) = %s, want %s", tc.name, tc.err, got, tc.want)
		}
	}
	if failure.Wrap(failure.Parse, nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	sentinel := failure.New(failure.Parse, "malformed status line")
	if !errors.Is(fmt.Errorf("x: %w", sentinel), sentinel) || sentinel.Error() != "malformed status line" {
		t.Errorf("New: %v", sentinel)
	}
}

// TestKindIgnoresWords: rewording an error changes its reason, not its
// kind; words that name a kind do not make an error of it.
func TestKindIgnoresWords(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, wrap := range []string{"connect: %w", "could not open a connection (%w)", "%w", "ошибка: %w"} {
		if k := failure.KindOf(fmt.Errorf(wrap, refused)); k != failure.Connect {
			t.Errorf("%q: %s", wrap, k)
		}
		if k := failure.KindOf(fmt.Errorf(wrap, failure.New(failure.Parse, "any words at all"))); k != failure.Parse {
			t.Errorf("%q: %s", wrap, k)
		}
	}
	for _, text := range []string{"connection refused", "step time limit 1s exceeded", "status 503", "tls: handshake failure", "i/o timeout"} {
		if k := failure.KindOf(errors.New(text)); k != failure.Other {
			t.Errorf("%q, a text only: kind %s, want other", text, k)
		}
	}
}
