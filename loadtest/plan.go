package loadtest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// Priority says which run a free connection slot serves next.
type Priority = engine.Priority

// The priorities: EqualOpportunity serves ready requests first come,
// first served; RunPriority serves the lowest-numbered run that has a
// ready request.
const (
	EqualOpportunity = engine.EqualOpportunity
	RunPriority      = engine.RunPriority
)

// Defaults of a new Plan.
const (
	DefaultBufferBytes = 256 << 10
	// DefaultWindow is the length of the time windows each step's
	// responses are counted in (the report's charts over time).
	DefaultWindow    = 200 * time.Millisecond
	DefaultKeepLevel = scenario.KeepTimes
	DefaultUserAgent = "benchgate/0.1"
)

// Plan is a set of runs and the global settings they execute with.
type Plan struct {
	runs        []*scenario.RunDef
	concurrency int
	priority    Priority
	repeat      int
	keepAlive   bool
	timeLimit   time.Duration
	grace       time.Duration
	bufferBytes int
	keepLevel   scenario.KeepLevel
	baseURL     string
	proxy       string
	insecure    bool
	resolve     map[string]string
	resolver    *net.Resolver
	http10      bool
	userAgent   string
	maxHeader   int
	executor    engine.Executor
	// the status policy of steps that set none
	defaultStatus []int
	anyStatus     bool
	secrets       []string
	progress      io.Writer
	progressEvery time.Duration
	seed          uint64
	requestLog    io.Writer
	requestLogCSV bool

	// LogRequestsFormatted's formatter
	requestLogFormat func(RequestLine) string

	// the requests whose responses have no body (NoResponseBody...)
	noBodyMethods  []string
	noBodyStatuses []int

	live   *engine.Live
	follow int
	// the options that set the executor, in order (one is allowed)
	executorBy    []string
	tlsConf       *tls.Config
	caFiles       []string
	clientCerts   [][2]string
	pins          []string
	clientP12     [][2]string // path, password
	ocsp          bool
	ocspRequired  bool
	proxyCAFiles  []string
	proxyInsecure bool
	keyLog        io.Writer
	noResumption  bool
	encodings     []string
	http2         bool
	h2Conns       int
	forDur        time.Duration
	repeatSet     bool
}

// Option sets a Plan setting.
type Option func(*Plan)

// New returns a plan with the given options applied over the defaults:
// concurrency 1, EqualOpportunity, repeat 1, keep-alive (as browsers,
// k6, hey and oha; KeepAlive(false) opens a connection per request), no
// time limit, 256 KiB buffers, keep level scenario.KeepTimes.
func New(opts ...Option) *Plan {
	p := &Plan{
		concurrency: 1, repeat: 1, keepAlive: true, bufferBytes: DefaultBufferBytes, keepLevel: DefaultKeepLevel,
		userAgent: DefaultUserAgent, maxHeader: 64 << 10, executor: engine.Slots{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Runs adds runs to the plan.
func Runs(runs ...*scenario.RunDef) Option {
	return func(p *Plan) { p.runs = append(p.runs, runs...) }
}

// Concurrency sets the number of connection slots (requests in flight).
func Concurrency(n int) Option { return func(p *Plan) { p.concurrency = n } }

// WithPriority sets EqualOpportunity (default) or RunPriority.
func WithPriority(pr Priority) Option { return func(p *Plan) { p.priority = pr } }

// Repeat sets the repeat count of runs that do not set their own.
func Repeat(n int) Option { return func(p *Plan) { p.repeat, p.repeatSet = n, true } }

// ForMaxIterations bounds the iterations of a run under For that sets no
// Repeat of its own (nor the plan).
const ForMaxIterations = 1 << 24

// For runs the plan's runs over and over for d: "run this sequence for
// 10 s". It is the plan's time limit (do not set TimeLimit too), and
// each run without a Repeat of its own (or the plan's) repeats until
// then, up to ForMaxIterations. Every step is reached: a breadth-first
// run keeps at most Concurrency iterations begun and not completed (a
// new one begins when one completes its last step), where plain
// breadth-first order with a large Repeat and a TimeLimit would spend
// the whole limit on step 1; a depth-first run is unchanged. The
// report's Repeat and configured counts are the iterations begun.
// Under VirtualUsers without Rounds, each VU walks its run round after
// round until d passes; under ArrivalRate at a constant Rate without a
// Duration, d is the Duration (engine.Plan.For).
func For(d time.Duration) Option { return func(p *Plan) { p.forDur = d } }

// KeepAlive sets whether steps that do not say keep their connection
// alive for the next request (default on, as browsers, k6, hey and oha);
// KeepAlive(false) opens a new connection for every request and closes
// it after the response.
func KeepAlive(on bool) Option { return func(p *Plan) { p.keepAlive = on } }

// TimeLimit bounds the whole execution; 0 means no limit. It is a
// duration, not a failure: when it passes no new request starts, and the
// ones in flight get the GracePeriod to finish.
func TimeLimit(d time.Duration) Option { return func(p *Plan) { p.timeLimit = d } }

// DefaultStatus sets which statuses are good for steps that say nothing
// (neither ExpectStatus nor AnyStatus). Without this option they are the
// 2xx and 3xx ones; DefaultStatus() with no codes accepts every status
// (the report still counts each status: StepReport.Statuses).
func DefaultStatus(codes ...int) Option {
	return func(p *Plan) {
		p.defaultStatus = append([]int(nil), codes...)
		p.anyStatus = len(codes) == 0
	}
}

// RedactFields adds names whose values are secrets, beyond
// scenario.SecretNames (password, token, secret, api key, ...): the
// values of headers, query parameters, form fields and JSON fields so
// named are redacted in the request texts and headers a report keeps. A
// name matches when, lower-cased and without '-' and '_', it contains
// one of these.
func RedactFields(names ...string) Option {
	return func(p *Plan) { p.secrets = append(p.secrets, names...) }
}

// GracePeriod sets how long requests in flight when the time limit
// passes may still finish (default engine.DefaultGracePeriod, 3 s, like
// k6's gracefulStop); those still running then are counted as
// interrupted, not failed. 0 keeps the default; a negative value
// interrupts them at once.
func GracePeriod(d time.Duration) Option { return func(p *Plan) { p.grace = d } }

// BufferBytes sets how much of each response body is kept for runs that
// do not set their own.
func BufferBytes(n int) Option { return func(p *Plan) { p.bufferBytes = n } }

// KeepLevel sets the keep level of runs that do not set their own
// (scenario.KeepTotals to scenario.KeepBodies).
func KeepLevel(level scenario.KeepLevel) Option { return func(p *Plan) { p.keepLevel = level } }

// BaseURL sets the URL relative step URLs resolve against. Its path is
// joined with each step's path, as Gatling's baseUrl and axios's baseURL
// do: BaseURL("http://host/v1") with Get("/orders") sends /v1/orders
// (scenario.JoinURL has the rules); a step URL that is absolute stays
// as it is. A base URL with a query or fragment is refused.
func BaseURL(u string) Option { return func(p *Plan) { p.baseURL = u } }

// Proxy sends every request through the HTTP proxy at u (CONNECT for
// https). A step URL of the form http://proxy:port/http://real/path is
// sent through that proxy too.
// An https:// proxy is spoken to over TLS, its certificate verified
// against the system's roots (or ProxyCAFile) for its host name.
func Proxy(u string) Option { return func(p *Plan) { p.proxy = u } }

// ProxyCAFile trusts the PEM certificates in path for an https:// proxy
// instead of the system's roots (as curl --proxy-cacert); several files
// add up. Read when the plan is validated.
func ProxyCAFile(path string) Option {
	return func(p *Plan) { p.proxyCAFiles = append(p.proxyCAFiles, path) }
}

// ProxyInsecureSkipVerify turns certificate verification off for an
// https:// proxy only (as curl --proxy-insecure).
func ProxyInsecureSkipVerify() Option { return func(p *Plan) { p.proxyInsecure = true } }

// InsecureSkipVerify turns TLS certificate verification off. The report
// says so.
func InsecureSkipVerify() Option { return func(p *Plan) { p.insecure = true } }

// Resolve connects to addr (an IP, or IP:port) for host while requests
// keep the host name, for staging servers.
func Resolve(host, addr string) Option {
	return func(p *Plan) {
		if p.resolve == nil {
			p.resolve = map[string]string{}
		}
		p.resolve[strings.ToLower(host)] = addr
	}
}

// WithResolver looks host names up with r instead of the system
// resolver (a loopback DNS server, a service registry...).
func WithResolver(r *net.Resolver) Option { return func(p *Plan) { p.resolver = r } }

// HTTP10 sends HTTP/1.0 requests instead of HTTP/1.1.
func HTTP10() Option { return func(p *Plan) { p.http10 = true } }

// UserAgent sets the User-Agent header ("" sends none).
func UserAgent(ua string) Option { return func(p *Plan) { p.userAgent = ua } }

// MaxHeaderBytes bounds a response's status line and headers (default 64 KiB).
func MaxHeaderBytes(n int) Option { return func(p *Plan) { p.maxHeader = n } }

// VirtualUsers runs the plan with virtual users (engine.VUs) instead of
// connection slots: each run gets the VUs
// numbered k ≡ its index (mod the number of runs), and each of its VUs
// walks it v.Rounds times; runs' own repeat counts and the plan's
// concurrency give way to that.
func VirtualUsers(v engine.VUs) Option {
	return func(p *Plan) {
		p.setExecutor("VirtualUsers", v)
	}
}

// ArrivalRate runs the plan in the open model (see engine.Arrivals):
// iterations arrive at a.Rate per second for a.Duration (or on a.Stages'
// ramps) and are walked by up to a.MaxVUs virtual users; iteration k
// goes to run k mod (number of runs). Runs' own repeat counts and the
// plan's concurrency give way to that. Report.Arrivals gives the
// iterations started and dropped and their lag behind the schedule,
// and StepReport.Corrected the latencies from each request's intended
// start.
func ArrivalRate(a engine.Arrivals) Option {
	return func(p *Plan) {
		p.setExecutor("ArrivalRate", a)
	}
}

// LiveCounters keeps l up to date while the plan executes: active
// virtual users, requests started, succeeded and failed, bytes read.
// Read it from any goroutine, at any time (l.Snapshot()).
func LiveCounters(l *engine.Live) Option { return func(p *Plan) { p.live = l } }

// Seed seeds the execution's random draws (think times; each VU's
// generator derives from it). Without it a random seed is used; the
// Report gives the seed either way, so a run can be replayed.
func Seed(n uint64) Option { return func(p *Plan) { p.seed = n } }

// TLSConfig starts the plan's TLS from c (cloned): root CAs, client
// certificates, server name, minimum version and the rest. Certificates
// are verified unless c or InsecureSkipVerify says otherwise; ALPN is
// benchgate's. CAFile and ClientCert add to it.
func TLSConfig(c *tls.Config) Option { return func(p *Plan) { p.tlsConf = c } }

// CAFile trusts the PEM certificates in path instead of the system's
// roots (as curl --cacert does); several files add up. The file is read
// when the plan is validated: a missing or empty one is a validation
// error and nothing is sent.
func CAFile(path string) Option { return func(p *Plan) { p.caFiles = append(p.caFiles, path) } }

// ClientCert presents the PEM certificate and key in certFile and
// keyFile to servers that ask for one (mutual TLS); keyFile "" reads the
// key from certFile too. Read when the plan is validated.
func ClientCert(certFile, keyFile string) Option {
	return func(p *Plan) {
		if keyFile == "" {
			keyFile = certFile
		}
		p.clientCerts = append(p.clientCerts, [2]string{certFile, keyFile})
	}
}

// ClientPKCS12 presents the client certificate and key in the PKCS#12
// (.p12, .pfx) file at path, decrypted with password, to servers that
// ask for one; chain certificates in the file are sent after it. Read
// when the plan is validated: a wrong password is a validation error
// (which does not show it).
func ClientPKCS12(path, password string) Option {
	return func(p *Plan) {
		p.clientP12 = append(p.clientP12, [2]string{path, password})
	}
}

// HTTP2 sends every request as an HTTP/2 stream instead of HTTP/1.1:
// h2 by ALPN for https URLs (a server that does not agree fails the
// request), h2c with prior knowledge for http ones. The plan's
// concurrency is the streams in flight, spread over conns connections
// per origin (0: one), never more on one connection than the server's
// SETTINGS_MAX_CONCURRENT_STREAMS. Extractors, forms, cookies,
// redirects and expectations work as over HTTP/1.1; a stream reset or
// a GOAWAY is a failure whose reason gives its error code, except that
// a stream past the last one of a graceful GOAWAY (NO_ERROR), which the
// server did not process, is sent again on a new connection. KeepAlive
// does not apply: streams always share their connections. Response header sizes are
// the decoded fields', not HPACK's bytes on the wire.
func HTTP2(conns int) Option { return func(p *Plan) { p.http2, p.h2Conns = true, conns } }

// AcceptEncoding asks for compressed bodies: requests carry
// Accept-Encoding with the codings given (of engine.Encodings: gzip,
// deflate, br, zstd; none given: all four), unless a step sets its own,
// and a body so encoded is decoded, up to the buffer size (a
// decompression bomb is cut there and counted as truncated), for the
// steps that read it: extractors, expectations, forms and kept bodies
// see it decoded. StepReport.BodyBytes stays what came on the wire,
// DecodedBytes is what it decoded to. A body that does not decode fails
// its step with the reason. Without this option nothing is asked for
// and bodies are read as they come.
func AcceptEncoding(codings ...string) Option {
	return func(p *Plan) {
		if len(codings) == 0 {
			codings = engine.Encodings
		}
		p.encodings = codings
	}
}

// PinnedPublicKey accepts a server only when its certificate's public
// key is one of pins, as curl --pinnedpubkey: each pin is
// "sha256//" and the base64 SHA-256 of the key's DER SubjectPublicKeyInfo
// (several joined by ';'), or the path of a PEM file holding the public
// key or a certificate. The pin is checked besides the usual
// verification, and even with InsecureSkipVerify; a mismatch fails the
// request ("public key pin mismatch"). Read when the plan is validated.
func PinnedPublicKey(pins ...string) Option {
	return func(p *Plan) { p.pins = append(p.pins, pins...) }
}

// OCSPStaple checks the OCSP response a server staples to its
// certificate (RFC 6066): a response saying the certificate is revoked
// or unknown, one not signed by the certificate's issuer, or one out of
// date fails the request with the reason. With required, a server that
// staples nothing fails too (as curl --cert-status). Without it, only
// the responses that come are checked.
func OCSPStaple(required bool) Option {
	return func(p *Plan) { p.ocsp, p.ocspRequired = true, required }
}

// TLSKeyLog writes the TLS session secrets of every connection to w in
// the NSS key log format (what SSLKEYLOGFILE gives curl and browsers),
// so that a packet capture of the run can be decrypted. The secrets are
// what protects the traffic: for debugging only.
func TLSKeyLog(w io.Writer) Option { return func(p *Plan) { p.keyLog = w } }

// TLSResumption turns TLS session resumption on (the default: a new
// connection to a host resumes the session of an earlier one, as
// browsers do) or off (every connection a full handshake).
func TLSResumption(on bool) Option { return func(p *Plan) { p.noResumption = !on } }

// FollowRedirects makes every step follow up to n redirects (301, 302,
// 303, 307, 308 with a Location) unless the step sets its own
// (Step.FollowRedirects); 0, the default, follows none: a redirect is
// the step's response. engine.DefaultMaxRedirects is the usual n.
func FollowRedirects(n int) Option { return func(p *Plan) { p.follow = n } }

// WithExecutor runs the plan with e instead of the slots executor. The
// plan validates e (Executor.Validate) and sizes its runs, concurrency
// and report from e's Work, as it does for VirtualUsers and ArrivalRate;
// an executor written as a function alone is engine.ExecuteFunc.
func WithExecutor(e engine.Executor) Option {
	return func(p *Plan) { p.setExecutor("WithExecutor", e) }
}

// setExecutor makes e the plan's executor, set by the option named.
func (p *Plan) setExecutor(option string, e engine.Executor) {
	p.executor = e
	p.executorBy = append(p.executorBy, option)
}

// executorField names the executor's option in validation errors.
func (p *Plan) executorField() string {
	if n := len(p.executorBy); n > 0 {
		return p.executorBy[n-1]
	}
	return "Executor"
}

// Apply applies options to the plan (changing it) and returns it.
func (p *Plan) Apply(opts ...Option) *Plan {
	for _, o := range opts {
		o(p)
	}
	return p
}

// AddRun appends a run and returns its index.
func (p *Plan) AddRun(r *scenario.RunDef) int { p.runs = append(p.runs, r); return len(p.runs) - 1 }

// Run returns run i, or nil when there is none.
func (p *Plan) Run(i int) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	return p.runs[i]
}

// ReplaceRun puts r at index i and returns the run it displaced (nil when
// i is out of range, and nothing changes).
func (p *Plan) ReplaceRun(i int, r *scenario.RunDef) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	old := p.runs[i]
	p.runs[i] = r
	return old
}

// DeleteRun removes run i and returns it (nil when out of range).
func (p *Plan) DeleteRun(i int) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	old := p.runs[i]
	p.runs = append(p.runs[:i:i], p.runs[i+1:]...)
	return old
}

// NumRuns returns the number of runs.
func (p *Plan) NumRuns() int { return len(p.runs) }

// TotalRequests returns the number of requests configured: steps times
// repeat, over all runs (under For, a run without a Repeat counts
// ForMaxIterations: the report counts the iterations it began).
func (p *Plan) TotalRequests() int {
	total := 0
	for _, r := range p.runs {
		if r == nil {
			continue
		}
		rep := r.RepeatCount()
		if rep == 0 {
			rep = p.repeat
			if p.forDur > 0 && !p.repeatSet {
				rep = ForMaxIterations
			}
		}
		total += len(r.Steps()) * rep
	}
	return total
}

// Validate checks the whole plan; the error names each bad field and value.
func (p *Plan) Validate() error {
	_, _, err := p.compile()
	return err
}

// compile builds the engine's plan and asks the executor for its work
// (validated, and applied to the plan's runs and concurrency).
func (p *Plan) compile() (*engine.Plan, engine.Work, error) {
	var errs []error
	bad := func(field, value, reason string) {
		errs = append(errs, &scenario.ValidationError{Field: field, Value: value, Reason: reason})
	}
	if p.concurrency < 1 {
		bad("Concurrency", fmt.Sprint(p.concurrency), "must be at least 1")
	}
	if p.priority != EqualOpportunity && p.priority != RunPriority {
		bad("Priority", fmt.Sprint(int(p.priority)), "must be EqualOpportunity or RunPriority")
	}
	if p.repeat < 1 {
		bad("Repeat", fmt.Sprint(p.repeat), "must be at least 1")
	}
	if p.timeLimit < 0 {
		bad("TimeLimit", p.timeLimit.String(), "must not be negative")
	}
	timeLimit := p.timeLimit
	if p.forDur != 0 {
		switch {
		case p.forDur < 0:
			bad("For", p.forDur.String(), "must be positive")
		case p.timeLimit != 0:
			bad("For", p.forDur.String(), fmt.Sprintf("with TimeLimit %v: For is the plan's time limit; set one of them", p.timeLimit))
		}
		timeLimit = p.forDur
	}
	if p.bufferBytes < 0 {
		bad("BufferBytes", fmt.Sprint(p.bufferBytes), "must not be negative")
	}
	if p.keepLevel < 0 || p.keepLevel > 3 {
		bad("KeepLevel", fmt.Sprint(p.keepLevel), "must be 0, 1, 2 or 3")
	}
	for _, c := range p.defaultStatus {
		if c < 100 || c > 599 {
			bad("DefaultStatus", fmt.Sprint(c), "not an HTTP status code (100-599)")
		}
	}
	if p.follow < 0 {
		bad("FollowRedirects", fmt.Sprint(p.follow), "must not be negative")
	}
	if p.maxHeader < 256 {
		bad("MaxHeaderBytes", fmt.Sprint(p.maxHeader), "must be at least 256")
	}
	if strings.ContainsAny(p.userAgent, "\r\n") {
		bad("UserAgent", p.userAgent, "contains a line break")
	}
	if len(p.runs) == 0 {
		bad("Runs", "[]", "a plan needs at least one run")
	}
	ep := &engine.Plan{
		Concurrency: p.concurrency, Priority: p.priority, KeepAlive: p.keepAlive, TimeLimit: timeLimit, GracePeriod: p.grace,
		For:    max(p.forDur, 0),
		HTTP10: p.http10, UserAgent: p.userAgent, InsecureSkipVerify: p.insecure, Resolve: p.resolve, Resolver: p.resolver,
		MaxHeaderBytes: p.maxHeader, FollowRedirects: p.follow, Secrets: p.secrets,
	}
	for _, e := range p.encodings {
		if !slices.Contains(engine.Encodings, e) {
			bad("AcceptEncoding", e, "not one benchgate decodes: "+strings.Join(engine.Encodings, ", "))
		}
	}
	ep.AcceptEncoding = p.encodings
	errs = append(errs, p.noBodyErrors()...)
	ep.NoBodyMethods, ep.NoBodyStatuses = p.noBodyMethods, p.noBodyStatuses
	if p.http2 {
		switch {
		case p.h2Conns < 0:
			bad("HTTP2", fmt.Sprint(p.h2Conns), "the number of connections must not be negative")
		case p.http10:
			bad("HTTP2", "with HTTP10", "a plan speaks one HTTP version")
		}
		ep.HTTP2, ep.H2Conns = true, p.h2Conns
	}
	if conf, err := p.tlsConfig(); err != nil {
		errs = append(errs, err)
	} else {
		ep.TLS, ep.NoTLSResumption = conf, p.noResumption
	}
	if p.proxy != "" {
		u, err := url.Parse(p.proxy)
		switch {
		case err != nil:
			bad("Proxy", p.proxy, err.Error())
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("Proxy", p.proxy, "want http://host:port or https://host:port")
		default:
			ep.Proxy = u
		}
	}
	switch httpsProxy := ep.Proxy != nil && ep.Proxy.Scheme == "https"; {
	case httpsProxy:
		// the key log covers the proxy's TLS too
		conf := &tls.Config{InsecureSkipVerify: p.proxyInsecure, KeyLogWriter: p.keyLog} //nolint:gosec // only when the user asks for it
		if len(p.proxyCAFiles) > 0 {
			pool, err := readCAFiles("ProxyCAFile", p.proxyCAFiles)
			if err != nil {
				errs = append(errs, err)
			}
			conf.RootCAs = pool
		}
		ep.ProxyTLS = conf
	case len(p.proxyCAFiles) > 0:
		bad("ProxyCAFile", p.proxy, "there is no https:// proxy to use it for")
	case p.proxyInsecure:
		bad("ProxyInsecureSkipVerify", p.proxy, "there is no https:// proxy to use it for")
	}
	d := scenario.Defaults{Repeat: p.repeat, KeepLevel: p.keepLevel, BufferBytes: p.bufferBytes, BaseURL: p.baseURL}
	if p.forDur > 0 && !p.repeatSet {
		d.Repeat = ForMaxIterations
	}
	for i, r := range p.runs {
		if r == nil {
			bad(fmt.Sprintf("Runs[%d]", i), "nil", "run is nil")
			continue
		}
		spec, err := r.Resolve(i, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for k := range spec.Steps {
			st := &spec.Steps[k]
			if len(st.ExpectStatus) == 0 && !st.AnyStatus {
				st.AnyStatus = p.anyStatus
				st.ExpectStatus = p.defaultStatus
			}
		}
		ep.Runs = append(ep.Runs, spec)
	}
	if len(p.executorBy) > 1 {
		bad(p.executorBy[len(p.executorBy)-1], "with "+strings.Join(p.executorBy[:len(p.executorBy)-1], " and "), "a plan has one executor: arrival rate, virtual users or your own")
	}
	var work engine.Work
	// the executor sees the plan as resolved: its runs (those that
	// resolved, so that its own errors join the others), their Repeat
	if err := p.executor.Validate(ep); err != nil {
		bad(p.executorField(), executorValue(p.executor), err.Error())
	} else if len(errs) == 0 {
		work = p.executor.Work(ep)
		if err := engine.CheckWork(work, ep); err != nil {
			bad(p.executorField(), executorValue(p.executor), "its Work: "+err.Error())
		} else {
			for i := range ep.Runs {
				ep.Runs[i].Repeat = work.Iterations[i]
			}
			ep.Concurrency = work.Concurrency
			if p.forDur > 0 && work.Duration > 0 {
				// For made the executor's own schedule (an arrival
				// rate's Duration): it ends there, and the requests it
				// began then finish, as without For
				ep.TimeLimit = 0
			}
		}
	}
	if p.forDur > 0 {
		for i := range ep.Runs {
			if ep.Runs[i].Order == scenario.BreadthFirst {
				ep.Runs[i].Window = max(ep.Concurrency, 1)
			}
		}
	}
	if ep.Concurrency >= 1 {
		if err := ensureOpenFiles(ep.Concurrency); err != nil {
			bad("Concurrency", fmt.Sprint(ep.Concurrency), err.Error())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, engine.Work{}, fmt.Errorf("invalid plan: %w", err)
	}
	return ep, work, nil
}

// executorValue shows an executor in a validation error: its settings
// for the built-in ones, its type for a user's.
func executorValue(e engine.Executor) string {
	switch e.(type) {
	case engine.VUs, engine.Arrivals, engine.Slots:
		return fmt.Sprintf("%+v", e)
	}
	return fmt.Sprintf("%T", e)
}

// tlsConfig builds the plan's TLS configuration from TLSConfig, CAFile
// and ClientCert; nil when none was given.
func (p *Plan) tlsConfig() (*tls.Config, error) {
	if p.tlsConf == nil && len(p.caFiles) == 0 && len(p.clientCerts) == 0 && len(p.clientP12) == 0 && len(p.pins) == 0 && p.keyLog == nil && !p.ocsp {
		return nil, nil
	}
	c := &tls.Config{}
	if p.tlsConf != nil {
		c = p.tlsConf.Clone()
	}
	if len(p.caFiles) > 0 {
		pool, err := readCAFiles("CAFile", p.caFiles)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	for _, kp := range p.clientCerts {
		cert, err := tls.LoadX509KeyPair(kp[0], kp[1])
		if err != nil {
			reason := err.Error()
			if encryptedPEM(kp[1]) {
				reason = "the key is encrypted: decrypt it (openssl pkey -in KEY -out plain.pem) or give a PKCS#12 file to ClientPKCS12"
			}
			return nil, &scenario.ValidationError{Field: "ClientCert", Value: kp[0] + " " + kp[1], Reason: reason}
		}
		c.Certificates = append(c.Certificates, cert)
	}
	for _, pp := range p.clientP12 {
		cert, err := readPKCS12(pp[0], pp[1])
		if err != nil {
			return nil, &scenario.ValidationError{Field: "ClientPKCS12", Value: pp[0], Reason: err.Error()}
		}
		c.Certificates = append(c.Certificates, cert)
	}
	if p.keyLog != nil {
		c.KeyLogWriter = p.keyLog
	}
	// the checks on top of verification, in order: the pins, the
	// stapled OCSP response, the user's own
	var checks []func(tls.ConnectionState) error
	if len(p.pins) > 0 {
		pins, err := readPins(p.pins)
		if err != nil {
			return nil, err
		}
		checks = append(checks, func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("public key pin mismatch: the server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if _, ok := pins[sum]; !ok {
				return fmt.Errorf("public key pin mismatch: the server's key is sha256//%s", base64.StdEncoding.EncodeToString(sum[:]))
			}
			return nil
		})
	}
	if p.ocsp {
		required := p.ocspRequired
		checks = append(checks, func(cs tls.ConnectionState) error { return checkStaple(cs, required, time.Now()) })
	}
	if len(checks) > 0 {
		if c.VerifyConnection != nil {
			checks = append(checks, c.VerifyConnection)
		}
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, check := range checks {
				if err := check(cs); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return c, nil
}

// checkStaple checks the OCSP response stapled in cs against the
// server's certificate and its issuer.
func checkStaple(cs tls.ConnectionState, required bool, now time.Time) error {
	if len(cs.OCSPResponse) == 0 {
		if required {
			return errors.New("OCSP: the server stapled no OCSP response to its certificate")
		}
		return nil
	}
	var leaf, issuer *x509.Certificate
	switch {
	case len(cs.VerifiedChains) > 0 && len(cs.VerifiedChains[0]) > 1:
		leaf, issuer = cs.VerifiedChains[0][0], cs.VerifiedChains[0][1]
	case len(cs.PeerCertificates) > 1:
		leaf, issuer = cs.PeerCertificates[0], cs.PeerCertificates[1]
	default:
		return errors.New("OCSP: no issuer certificate to check the stapled response against")
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf, issuer)
	if err != nil {
		return fmt.Errorf("OCSP: the stapled response is invalid: %w", err)
	}
	const skew = 5 * time.Minute
	switch {
	case resp.Status == ocsp.Revoked:
		return fmt.Errorf("OCSP: the server's certificate is revoked (since %s, reason %d)", resp.RevokedAt.UTC().Format(time.RFC3339), resp.RevocationReason)
	case resp.Status != ocsp.Good:
		return errors.New("OCSP: the responder does not know the server's certificate (status unknown)")
	case resp.ThisUpdate.After(now.Add(skew)):
		return fmt.Errorf("OCSP: the stapled response is from the future (%s)", resp.ThisUpdate.UTC().Format(time.RFC3339))
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate.Add(skew)):
		return fmt.Errorf("OCSP: the stapled response is out of date (next update was due %s)", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

// readPKCS12 reads a certificate, its key and its chain from a PKCS#12
// file.
func readPKCS12(path, password string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

// encryptedPEM reports whether the PEM file at path holds an encrypted
// private key (PKCS#8 "ENCRYPTED PRIVATE KEY", or the legacy DEK-Info
// form).
func encryptedPEM(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return true
		}
	}
}

// readCAFiles reads the PEM certificates in files into a pool; field
// names the option in errors.
func readCAFiles(field string, files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, &scenario.ValidationError{Field: field, Value: f, Reason: err.Error()}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &scenario.ValidationError{Field: field, Value: f, Reason: "no PEM certificate in it"}
		}
	}
	return pool, nil
}

// readPins reads PinnedPublicKey's pins into the set of SHA-256 sums.
func readPins(list []string) (map[[32]byte]struct{}, error) {
	pins := map[[32]byte]struct{}{}
	bad := func(v, why string) error {
		return &scenario.ValidationError{Field: "PinnedPublicKey", Value: v, Reason: why}
	}
	for _, arg := range list {
		if !strings.HasPrefix(arg, "sha256//") {
			data, err := os.ReadFile(arg)
			if err != nil {
				return nil, bad(arg, err.Error())
			}
			n := len(pins)
			for rest := data; ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				spki := b.Bytes
				switch b.Type {
				case "PUBLIC KEY":
					if _, err := x509.ParsePKIXPublicKey(b.Bytes); err != nil {
						return nil, bad(arg, err.Error())
					}
				case "CERTIFICATE":
					cert, err := x509.ParseCertificate(b.Bytes)
					if err != nil {
						return nil, bad(arg, err.Error())
					}
					spki = cert.RawSubjectPublicKeyInfo
				default:
					continue
				}
				pins[sha256.Sum256(spki)] = struct{}{}
			}
			if len(pins) == n {
				return nil, bad(arg, "no PEM public key or certificate in it")
			}
			continue
		}
		for _, pin := range strings.Split(arg, ";") {
			b64, ok := strings.CutPrefix(strings.TrimSpace(pin), "sha256//")
			sum, err := base64.StdEncoding.DecodeString(b64)
			if !ok || err != nil || len(sum) != sha256.Size {
				return nil, bad(pin, `want "sha256//" and the base64 of a 32-byte SHA-256 sum`)
			}
			pins[[32]byte(sum)] = struct{}{}
		}
	}
	return pins, nil
}

// Execute validates the plan, sends its requests and returns the Report.
// An invalid plan sends nothing and returns an empty Report (DidNotRun)
// with the error. When ctx is cancelled the partial Report comes back
// with ctx's error; reaching the plan's time limit is not an error: the
// Report says it stopped there. The Report carries the error Execute
// returns (Report.Err), so that a matcher given it says what went wrong
// even when the spec did not check the error.
func (p *Plan) Execute(ctx context.Context) (*Report, error) {
	report, err := p.execute(ctx)
	report.Err = err
	return report, err
}

func (p *Plan) execute(ctx context.Context) (*Report, error) {
	ep, work, err := p.compile()
	if err == nil {
		err = p.checkForever(ctx, work)
	}
	if err != nil {
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
	}
	ep.Seed = p.seed
	if ep.Seed == 0 {
		ep.Seed = rand.Uint64()
	}
	ep.RecordURLs = p.requestLog != nil
	ep.Live = p.live
	rec := newRecorder(ep, p.secrets)
	if p.forDur > 0 {
		rec.openEnded = make([]bool, len(ep.Runs))
		for i, r := range p.runs {
			// a run the executor walks until stopped tells its
			// iterations begun itself (Recorder.IterationsBegun)
			rec.openEnded[i] = !p.repeatSet && r.RepeatCount() == 0 && (work.UntilStopped == nil || !work.UntilStopped[i])
		}
	}
	if work.Arrivals > 0 {
		rec.arrivals = &ArrivalReport{Planned: int64(work.Arrivals), Lag: NewLatency()}
	}
	if p.requestLog != nil {
		rec.lines = newLineLog(p.requestLog, p.requestLogCSV, p.requestLogFormat)
		defer rec.lines.close()
	}
	health := startHealth()
	stopProgress := func() {}
	if p.progress != nil {
		var configured int64
		for i, r := range ep.Runs {
			if i < len(rec.openEnded) && rec.openEnded[i] {
				configured = 0 // bounded by time alone: no count to show
				break
			}
			configured += int64(r.Repeat * len(r.Steps))
		}
		stopProgress = showProgress(p.progress, p.progressEvery, rec, configured, ep.TimeLimit)
	}
	err = p.executor.Execute(ctx, ep, rec)
	stopProgress()
	var logErr error
	if rec.lines != nil {
		logErr = rec.lines.close()
	}
	report := rec.report()
	if logErr != nil {
		report.Warnings = append(report.Warnings, fmt.Sprintf("request log: %v: the lines from then on are missing", logErr))
	}
	var lag *Latency
	if report.Arrivals != nil {
		lag = report.Arrivals.Lag
	}
	report.Generator = health.finish(lag)
	report.Seed = ep.Seed
	report.Session = ThisSession()
	if errors.As(err, new(*engine.HookError)) {
		return report, err // the recorder put them in the report
	}
	if errors.Is(err, engine.ErrTimeLimit) {
		report.StoppedBy = "time limit " + ep.TimeLimit.String()
		if p.forDur > 0 {
			// For's end is the plan's end: only the requests of
			// iterations it cut (or of runs with their own Repeat) are
			// worth a word
			report.StoppedBy = ""
			if report.RequestsNotStarted > 0 {
				report.StoppedBy = fmt.Sprintf("time limit %v (For): %d not started", ep.TimeLimit, report.RequestsNotStarted)
			}
		}
		if report.StoppedBy != "" {
			report.StopCode, report.stopErr = StopTimeLimit, engine.ErrTimeLimit
		}
		err = nil
	} else if err != nil {
		report.StoppedBy, report.StopCode, report.stopErr = err.Error(), stopCode(err), err
	}
	return report, err
}
