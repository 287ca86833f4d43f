package engine

import (
	"crypto/tls"
	"net"
	"net/url"
	"time"

	"github.com/benchgate/benchgate/internal/dial"
	"github.com/benchgate/benchgate/scenario"
)

// Priority says which run a free slot serves next.
type Priority int

const (
	// EqualOpportunity serves ready requests first come, first served,
	// whatever run they belong to.
	EqualOpportunity Priority = iota
	// RunPriority serves the lowest-numbered run that has a ready request.
	RunPriority
)

// String returns "equal-opportunity" or "run-priority".
func (p Priority) String() string {
	if p == RunPriority {
		return "run-priority"
	}
	return "equal-opportunity"
}

// Defaults of the settings whose zero value means "the default".
const (
	// DefaultGracePeriod is how long requests in flight at the time
	// limit may still finish (Plan.GracePeriod 0).
	DefaultGracePeriod = 3 * time.Second
	// DefaultMaxHeaderBytes bounds a response's status line and headers
	// (Plan.MaxHeaderBytes 0).
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultConnectAttempts is how often a failed TCP connect is tried
	// in all (Plan.ConnectAttempts 0).
	DefaultConnectAttempts = dial.DefaultAttempts
	// DefaultH2Conns is the number of HTTP/2 connections per origin
	// (Plan.H2Conns 0).
	DefaultH2Conns = 1
)

// Plan is what an executor runs: resolved runs plus global settings.
// Package loadtest builds and validates it: each of its options writes
// the field of the same name, except these, named for what the option
// does:
//
//	loadtest option                          Plan field
//	WithPriority                             Priority
//	HTTP2(conns)                             HTTP2, H2Conns
//	NoResponseBodyMethods, …Statuses         NoBodyMethods, NoBodyStatuses
//	TLSResumption(on)                        NoTLSResumption (= !on)
//	RedactFields                             Secrets
//	LiveCounters, Scoreboard                 Live
//	Shard(index, count)                      Segment
//	StartAt(t0, ready)                       Start
//	WithResolver                             Resolver
//	For                                      For, and TimeLimit
//	TLSConfig, CAFile, ClientCert, …         TLS (built)
//	ProxyCAFile, ProxyInsecureSkipVerify     ProxyTLS (built)
//	LogRequests, LogRequestsCSV, …           RecordURLs
//
// ConnectAttempts has no option (loadtest leaves it 0, the default).
// A zero setting that has a default (GracePeriod, MaxHeaderBytes,
// ConnectAttempts, H2Conns) means that default: see the Default
// constants.
type Plan struct {
	Runs        []scenario.RunSpec
	Concurrency int
	Priority    Priority
	KeepAlive   bool
	// TimeLimit bounds the whole execution; 0 means none. When it passes
	// no new request starts; requests in flight get GracePeriod to
	// finish, and those still running then are interrupted.
	TimeLimit time.Duration
	// For runs the plan for this long (it is then also the TimeLimit):
	// the executors go on until it passes. VUs without Rounds walk
	// their runs round after round (RoundsForever); Arrivals at a
	// constant Rate without a Duration take it as their Duration; the
	// runs of Slots that package loadtest resolved without a repeat
	// count are repeated up to its bound.
	For time.Duration
	// GracePeriod is how long requests in flight may finish after the
	// time limit (0: DefaultGracePeriod; negative: none).
	GracePeriod time.Duration
	// NoBodyMethods and NoBodyStatuses add to the requests whose
	// response has no body, beyond HEAD and the statuses 1xx, 204 and
	// 304: the response ends with its
	// headers, whatever Content-Length or Transfer-Encoding it states.
	// Bytes that come after it anyway are unexpected: the connection is
	// closed with a warning, never read for the next response. A
	// response of a registered method or status whose headers frame a
	// body (Content-Length other than 0, Transfer-Encoding, or for a
	// status neither) closes its connection: the server may send that
	// body, perhaps late.
	NoBodyMethods  []string
	NoBodyStatuses []int
	// HTTP10 sends HTTP/1.0 requests instead of HTTP/1.1.
	HTTP10    bool
	UserAgent string
	// Proxy, when set, receives every request (CONNECT for https); an
	// https:// proxy is reached over TLS with ProxyTLS (nil: the system's
	// roots, the proxy's name checked).
	Proxy    *url.URL
	ProxyTLS *tls.Config
	// InsecureSkipVerify turns TLS certificate verification off.
	InsecureSkipVerify bool
	// TLS, when set, is the TLS configuration to start from (root CAs,
	// client certificates, server name, versions); it is cloned, and
	// its NextProtos replaced.
	TLS *tls.Config
	// HTTP2 sends every request as an HTTP/2 stream: h2 by ALPN over
	// TLS (the server must agree), h2c with prior knowledge over http.
	// H2Conns is the number of connections per origin (0:
	// DefaultH2Conns) the slots' streams are spread over.
	HTTP2   bool
	H2Conns int
	// AcceptEncoding, when set, is sent as Accept-Encoding (unless a step
	// sets its own) and bodies so encoded are decoded for the steps that
	// read them.
	AcceptEncoding []string
	// NoTLSResumption makes every TLS connection a full handshake.
	NoTLSResumption bool
	// Resolve maps a host name to the address to connect to instead; the
	// Host header keeps the name.
	Resolve map[string]string
	// Resolver looks host names up (once per host); nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
	// FollowRedirects is how many redirects (301, 302, 303, 307, 308
	// with a Location) a step follows before it fails; 0 follows none.
	// A step's own setting overrides it.
	FollowRedirects int
	// MaxHeaderBytes bounds a response's status line and headers (0:
	// DefaultMaxHeaderBytes); over HTTP/2, its header list as
	// SETTINGS_MAX_HEADER_LIST_SIZE counts it (each field's name and
	// value and 32 bytes).
	MaxHeaderBytes int
	// ConnectAttempts is how often a failed TCP connect is tried in all
	// (0: DefaultConnectAttempts, 10).
	ConnectAttempts int
	// Live, when set, is kept up to date during the execution.
	Live *Live
	// RecordURLs sets Result.URL for every request, not only failed ones
	// (for a per-request log).
	RecordURLs bool
	// Seed seeds every random draw of the execution (think times, for
	// virtual users one generator each): the same seed, the same draws.
	Seed uint64
	// Secrets are names whose values are secrets beyond
	// scenario.SecretNames (loadtest.RedactFields): every Result.Reason
	// is redacted by scenario.RedactText with them when it is made.
	Secrets []string
	// Segment is the part of the work this execution does when the plan
	// runs as several shards (the zero Segment: all of it).
	Segment Segment
	// Start, when set, is when the execution begins (T0, handed to
	// every shard of a plan): Execute sends nothing before it, and
	// the schedules count from it (an arrival rate's arrivals, VUs'
	// start times on their ramp), so an execution that begins late
	// shows it as lag and in the corrected latencies. Zero: at once.
	Start time.Time
}

// noBodyMethod reports whether method is one of NoBodyMethods.
func (p *Plan) noBodyMethod(method string) bool {
	for _, m := range p.NoBodyMethods {
		if m == method {
			return true
		}
	}
	return false
}

// noBodyStatuses returns a table of NoBodyStatuses indexed by status
// (nil when there are none).
func (p *Plan) noBodyStatuses() []bool {
	var t []bool
	for _, st := range p.NoBodyStatuses {
		if st < 100 || st > 999 {
			continue // package loadtest refuses them
		}
		if t == nil {
			t = make([]bool, 1000)
		}
		t[st] = true
	}
	return t
}
