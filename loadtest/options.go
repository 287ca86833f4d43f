package loadtest

import (
	"net"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
	"github.com/benchgate/benchgate/scoreboard"
)

// Runs adds runs to the plan.
func Runs(runs ...*scenario.RunDef) Option {
	return func(p *Plan) { p.runs = append(p.runs, runs...) }
}

// Concurrency sets the number of connection slots (requests in flight).
func Concurrency(n int) Option { return func(p *Plan) { p.cfg.Concurrency = n } }

// WithPriority sets EqualOpportunity (default) or RunPriority.
func WithPriority(pr Priority) Option { return func(p *Plan) { p.cfg.Priority = pr } }

// Repeat sets the repeat count of runs that do not set their own: how
// many iterations each such run has under the slots executor (the
// default; engine.Slots), the iterations shared by the plan's
// Concurrency slots. It is not engine.VUs.Rounds: under VirtualUsers a
// run's iterations are its VUs times Rounds (each VU walks its run
// Rounds times) and Repeat gives way; under ArrivalRate they follow
// the schedule.
func Repeat(n int) Option { return func(p *Plan) { p.runDefault.Repeat, p.repeatSet = n, true } }

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
func For(d time.Duration) Option { return func(p *Plan) { p.cfg.For = d } }

// KeepAlive sets whether steps that do not say keep their connection
// alive for the next request (default on, as browsers, k6, hey and oha);
// KeepAlive(false) opens a new connection for every request and closes
// it after the response.
func KeepAlive(on bool) Option { return func(p *Plan) { p.cfg.KeepAlive = on } }

// TimeLimit bounds the whole execution; 0 means no limit (a step's
// TimeLimit, scenario.Step.TimeLimit, bounds each of its requests). It is a
// duration, not a failure: when it passes no new request starts, and the
// ones in flight get the GracePeriod to finish.
func TimeLimit(d time.Duration) Option { return func(p *Plan) { p.cfg.TimeLimit = d } }

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
	return func(p *Plan) { p.cfg.Secrets = append(p.cfg.Secrets, names...) }
}

// GracePeriod sets how long requests in flight when the time limit
// passes may still finish (default engine.DefaultGracePeriod, 3 s, like
// k6's gracefulStop); those still running then are counted as
// interrupted, not failed. 0 keeps the default; a negative value
// interrupts them at once.
func GracePeriod(d time.Duration) Option { return func(p *Plan) { p.cfg.GracePeriod = d } }

// BufferBytes sets how much of each response body is kept for runs that
// do not set their own.
func BufferBytes(n int) Option { return func(p *Plan) { p.runDefault.BufferBytes = n } }

// KeepLevel sets the keep level of runs that do not set their own
// (scenario.KeepTotals to scenario.KeepBodies). It takes a
// scenario.KeepLevel, or an int as it did before the levels were typed
// (a level read from a flag, say).
func KeepLevel[L ~int](level L) Option {
	return func(p *Plan) { p.runDefault.KeepLevel = scenario.KeepLevel(level) }
}

// BaseURL sets the URL relative step URLs resolve against. Its path is
// joined with each step's path, as Gatling's baseUrl and axios's baseURL
// do: BaseURL("http://host/v1") with Get("/orders") sends /v1/orders
// (scenario.JoinURL has the rules); a step URL that is absolute stays
// as it is. A base URL with a query or fragment is refused.
func BaseURL(u string) Option { return func(p *Plan) { p.runDefault.BaseURL = u } }

// Proxy sends every request through the HTTP proxy at u (CONNECT for
// https). A step URL of the form http://proxy:port/http://real/path is
// sent through that proxy too.
// An https:// proxy is spoken to over TLS, its certificate verified
// against the system's roots (or ProxyCAFile) for its host name.
func Proxy(u string) Option { return func(p *Plan) { p.proxy = u } }

// Resolve connects to addr (an IP, or IP:port) for host while requests
// keep the host name, for staging servers.
func Resolve(host, addr string) Option {
	return func(p *Plan) {
		if p.cfg.Resolve == nil {
			p.cfg.Resolve = map[string]string{}
		}
		p.cfg.Resolve[strings.ToLower(host)] = addr
	}
}

// WithResolver looks host names up with r instead of the system
// resolver (a loopback DNS server, a service registry...).
func WithResolver(r *net.Resolver) Option { return func(p *Plan) { p.cfg.Resolver = r } }

// HTTP10 sends HTTP/1.0 requests instead of HTTP/1.1.
func HTTP10() Option { return func(p *Plan) { p.cfg.HTTP10 = true } }

// UserAgent sets the User-Agent header ("" sends none).
func UserAgent(ua string) Option { return func(p *Plan) { p.cfg.UserAgent = ua } }

// MaxHeaderBytes bounds a response's status line and headers (default
// 64 KiB); over HTTP/2, its header list as SETTINGS_MAX_HEADER_LIST_SIZE
// counts it (each field's name and value and 32 bytes). A response past
// it fails, whatever the protocol.
func MaxHeaderBytes(n int) Option { return func(p *Plan) { p.cfg.MaxHeaderBytes = n } }

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
func LiveCounters(l *engine.Live) Option { return func(p *Plan) { p.cfg.Live = l } }

// Scoreboard publishes the execution's live counters into a slot of a
// scoreboard shared between processes (package scoreboard): the slot's
// counters are the plan's LiveCounters (this replaces LiveCounters), the
// slot is marked running with a heartbeat while the execution runs and
// done when it ends. With Shard(k, n) too, the slot must be slot k of a
// board of n slots (Execute refuses another).
func Scoreboard(slot *scoreboard.Slot) Option {
	return func(p *Plan) {
		p.board, p.boardSet = slot, true
		if slot != nil {
			p.cfg.Live = slot.Live()
		}
	}
}

// Shard makes the execution shard index (from 0) of count: it sends
// its segment of the plan's work (engine.Segment), and its Report says
// which shard it was, so that Merge can add the count shards' reports up
// into the report of the whole plan. A sharded plan needs Seed, so
// that every shard draws what the whole plan draws.
//
// Every built-in executor splits its work deterministically (see
// engine.Slots.Work, engine.VUs.Work, engine.Arrivals.Work): the count
// shards together send exactly the requests the whole plan sends, with
// the same iteration numbers ({{iteration}}, feeder rows: Unique stays
// unique across shards), the same draws and, for an arrival rate, the
// same intended times. An executor of your own that cannot split its
// work refuses a shard in its Validate (engine.RefuseSegment).
func Shard(index, count int) Option {
	return func(p *Plan) { p.cfg.Segment, p.shardSet = engine.Segment{Index: index, Count: count}, true }
}

// Seed seeds the execution's random draws (think times; each VU's
// generator derives from it). Without it a random seed is used; the
// Report gives the seed either way, so a run can be replayed.
func Seed(n uint64) Option { return func(p *Plan) { p.cfg.Seed = n } }

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
func HTTP2(conns int) Option { return func(p *Plan) { p.cfg.HTTP2, p.cfg.H2Conns = true, conns } }

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
		p.cfg.AcceptEncoding = codings
	}
}

// FollowRedirects makes every step follow up to n redirects (301, 302,
// 303, 307, 308 with a Location) unless the step sets its own
// (Step.FollowRedirects); 0, the default, follows none: a redirect is
// the step's response. engine.DefaultMaxRedirects is the usual n.
func FollowRedirects(n int) Option { return func(p *Plan) { p.cfg.FollowRedirects = n } }

// WithExecutor runs the plan with e instead of the slots executor. The
// plan validates e (Executor.Validate) and sizes its runs, concurrency
// and report from e's Work, as it does for VirtualUsers and ArrivalRate;
// an executor written as a function alone is engine.ExecuteFunc.
func WithExecutor(e engine.Executor) Option {
	return func(p *Plan) { p.setExecutor("WithExecutor", e) }
}
