package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// abConfig is what the ab flags say.
type abConfig struct {
	requests    int
	requestsSet bool // -n given
	concurrency int
	keepAlive   bool
	timeLimit   float64
	timeout     float64
	postFile    string
	putFile     string
	contentType string
	headers     []string
	cookies     []string
	method      string
	head        bool
	proxy       string
	quiet       bool
	verbosity   int
	csvFile     string
	jsonFile    string
	jsonReqs    bool // --json-requests
	stepsCSV    string
	insecure    bool
	caCert      string
	compressed  bool
	http2       bool
	h2Conns     int
	cert, key   string
	pins        string
	certType    string
	certStatus  bool
	pass        string
	proxyCACert string
	proxyInsec  bool
	tls12       bool
	tls13       bool
	tlsMax      string
	ciphers     string
	keyLog      string // SSLKEYLOGFILE
	goroutines  bool
	rampUp      time.Duration
	rampStart   int
	debug       bool
	rate        float64
	rateStart   float64
	maxLag      time.Duration
	follow      int
	recvErrOK   bool   // -r: accepted; benchgate never stops on a receive error
	anyLength   bool   // -l: a body length unlike the first is not a failure
	gnuplot     string // -g: TSV of every complete request
	noPercent   bool   // -d: no "percentage served" table
	noConfid    bool   // -S: min, avg and max only; no median, sd or warnings
	version     bool
	stderr      io.Writer // for --debug
	url         string
}

// abVersion is what -V prints and the User-Agent says.
const abVersion = "0.1"

// errVersion is parseABFlags' answer to -V: print the version, exit 0.
var errVersion = errors.New("version asked for")

// attachFollowCount lets -L (follow redirects) stand alone, as curl's
// -L does, and still take a count in the next argument as it always
// has: "-L 3 URL" is -L=3, "-L -k URL" and "-L URL" follow up to the
// default. It walks the arguments as pflag does, so that the value of
// another flag (-H -L) is left alone.
func attachFollowCount(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	isCount := func(i int) bool {
		if i >= len(args) || args[i] == "" {
			return false
		}
		a := strings.TrimPrefix(args[i], "-")
		return a != "" && strings.Trim(a, "0123456789") == ""
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		switch {
		case a == "--":
			return append(out, args[i+1:]...)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f := fs.Lookup(name)
			switch {
			case f == nil || hasValue:
			case name == "follow":
				if isCount(i + 1) {
					out[len(out)-1] = a + "=" + args[i+1]
					i++
				}
			case f.NoOptDefVal == "" && i+1 < len(args):
				out = append(out, args[i+1])
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				f := fs.ShorthandLookup(a[j : j+1])
				if f == nil || a[j:j+1] == "=" {
					break
				}
				last := j == len(a)-1
				if f.Name == "follow" {
					switch rest := a[j+1:]; {
					case last && isCount(i+1): // -L 3
						out[len(out)-1] = a + "=" + args[i+1]
						i++
					case rest != "" && strings.Trim(rest, "0123456789") == "": // -L3
						out[len(out)-1] = a[:j+1] + "=" + rest
					case rest != "" && rest[0] == '=':
					default:
						continue
					}
					break
				}
				if f.NoOptDefVal != "" {
					continue // a bool in a cluster
				}
				if last && i+1 < len(args) {
					out = append(out, args[i+1])
					i++
				}
				break
			}
		}
	}
	return out
}

func parseABFlags(args []string, stderr io.Writer) (*abConfig, error) {
	c := &abConfig{stderr: stderr}
	fs := pflag.NewFlagSet("ab", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate ab [options] http[s]://host[:port]/path\n\n"+
			"As in ApacheBench, any response is complete: a non-2xx status is counted\n"+
			"and shown as \"Non-2xx responses\", not failed (the library's default is\n"+
			"to fail anything but 2xx and 3xx).\n\nExit status: 0; 1 when the run was interrupted, nothing worked, or a --rate\nrun dropped arrivals (the rate was not kept); 2 for bad flags.\n\noptions:\n%s", fs.FlagUsages())
	}
	fs.SortFlags = false
	fs.IntVarP(&c.requests, "requests", "n", 1, "number of requests to perform")
	fs.IntVarP(&c.concurrency, "concurrency", "c", 1, "number of requests to make at a time")
	fs.BoolVarP(&c.keepAlive, "keepalive", "k", false, "use HTTP keep-alive")
	fs.Float64VarP(&c.timeLimit, "timelimit", "t", 0, "seconds to spend at most; implies -n 50000 unless -n is given")
	fs.Float64VarP(&c.timeout, "timeout", "s", 30, "seconds one request may take in all, connect to last byte")
	fs.StringVarP(&c.postFile, "postfile", "p", "", "file with the body to POST (set -T too)")
	fs.StringVarP(&c.putFile, "putfile", "u", "", "file with the body to PUT (set -T too)")
	fs.StringVarP(&c.contentType, "content-type", "T", "text/plain", "Content-Type of the -p/-u body")
	fs.StringArrayVarP(&c.headers, "header", "H", nil, "extra header 'Name: value' (repeatable)")
	fs.StringArrayVarP(&c.cookies, "cookie", "C", nil, "cookie 'name=value' (repeatable)")
	fs.StringVarP(&c.method, "method", "m", "", "HTTP method")
	fs.BoolVarP(&c.head, "head", "i", false, "send HEAD requests")
	fs.StringVarP(&c.proxy, "proxy", "X", "", "proxy host:port, or http[s]://host:port (https: TLS to the proxy)")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "print no progress")
	fs.IntVarP(&c.verbosity, "verbosity", "v", 1, "how much to print (2: failure reasons, 3: + response headers of the first request)")
	fs.StringVarP(&c.csvFile, "csv", "e", "", "write percentages served within a time to this CSV file")
	fs.StringVarP(&c.jsonFile, "json", "j", "", "write the report to this JSON file: counts, histograms per step and time window (small; for benchgate compare and report)")
	fs.BoolVar(&c.jsonReqs, "json-requests", false, "with -j: add one record per request (about 250 bytes each, written as they are read)")
	fs.StringVar(&c.stepsCSV, "report-csv", "", "write the report's counts, percentiles and rate to this CSV file")
	fs.BoolVar(&c.insecure, "insecure", false, "skip TLS certificate verification")
	fs.BoolVar(&c.http2, "http2", false, "HTTP/2: h2 by ALPN for https, h2c with prior knowledge for http; -c streams in flight")
	fs.IntVar(&c.h2Conns, "h2-conns", 1, "with --http2: connections the streams are spread over")
	fs.BoolVar(&c.compressed, "compressed", false, "ask for compressed bodies (gzip, deflate, br, zstd) and decode them, as curl --compressed")
	fs.StringVar(&c.caCert, "cacert", "", "trust the PEM certificates in this file instead of the system's (as curl)")
	fs.StringVar(&c.cert, "cert", "", "client certificate (PEM) for servers that ask for one")
	fs.StringVar(&c.key, "key", "", "the --cert's private key (PEM; default: in the --cert file)")
	fs.StringVar(&c.certType, "cert-type", "PEM", "the --cert's format: PEM or P12 (PKCS#12, key inside; as curl)")
	fs.StringVar(&c.pass, "pass", "", "the password of a P12 --cert (as curl)")
	fs.BoolVar(&c.certStatus, "cert-status", false, "require a valid stapled OCSP response from the server (as curl)")
	fs.StringVar(&c.pins, "pinnedpubkey", "", "accept only a server whose public key is this sha256//BASE64[;sha256//…] or is in this PEM file (as curl)")
	fs.StringVar(&c.proxyCACert, "proxy-cacert", "", "with -X https://…: trust the PEM certificates in this file for the proxy (as curl)")
	fs.BoolVar(&c.proxyInsec, "proxy-insecure", false, "with -X https://…: skip the proxy's certificate verification (as curl)")
	fs.BoolVar(&c.tls12, "tlsv1.2", false, "TLS 1.2 at least (as curl)")
	fs.BoolVar(&c.tls13, "tlsv1.3", false, "TLS 1.3 at least (as curl)")
	fs.StringVar(&c.tlsMax, "tls-max", "", "the highest TLS version to offer: 1.2 or 1.3 (as curl)")
	fs.StringVar(&c.ciphers, "ciphers", "", "TLS 1.2 cipher suites to offer, by their IANA names, ':' or ',' between (TLS 1.3's are not configurable)")
	fs.BoolVar(&c.goroutines, "goroutines", false, "one goroutine per connection instead of the event loop")
	fs.DurationVar(&c.rampUp, "ramp-up", 0, "virtual users instead of slots: -c users started over this time, each sending -n/-c requests")
	fs.IntVar(&c.rampStart, "ramp-start", 1, "with --ramp-up: users started at once")
	fs.Float64Var(&c.rate, "rate", 0, "open model: requests arriving per second, whatever the server does; lasts -t seconds or until -n have arrived, whichever comes first; -c bounds those in flight (default: rate × 0.1 s, at least 100)")
	fs.Float64Var(&c.rateStart, "rate-start", -1, "with --rate: ramp the rate linearly from this one to --rate")
	fs.DurationVar(&c.maxLag, "max-lag", time.Second, "with --rate: drop a request that cannot start this long after its arrival (every -c busy)")
	fs.IntVarP(&c.follow, "follow", "L", 0, "follow up to this many redirects (each one counted apart); -L alone: 50, as curl")
	fs.Lookup("follow").NoOptDefVal = "50"
	fs.BoolVarP(&c.recvErrOK, "recverr", "r", false, "don't exit on socket receive errors (benchgate never does: it counts them as failed)")
	fs.BoolVarP(&c.anyLength, "variable-length", "l", false, "expect body lengths to vary (without -l a summary warns when they do; ab counts them as failed)")
	fs.StringVarP(&c.gnuplot, "gnuplot", "g", "", "write every complete request's times to this TSV file, as ab -g (ordered by total time)")
	fs.BoolVarP(&c.noPercent, "no-percentiles", "d", false, "do not print the \"percentage served within\" table")
	fs.BoolVarP(&c.noConfid, "no-confidence", "S", false, "print min, avg and max only: no median, sd, or the warnings when mean and median are apart")
	fs.BoolVarP(&c.version, "version", "V", false, "print the version and exit")
	fs.BoolVar(&c.debug, "debug", false, "print each request sent as a JSON line on standard error")
	if err := fs.Parse(attachFollowCount(fs, args)); err != nil {
		return nil, err
	}
	if c.version {
		return nil, errVersion
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, fmt.Errorf("want exactly one URL, got %d arguments", fs.NArg())
	}
	c.url = fs.Arg(0)
	c.keyLog = os.Getenv("SSLKEYLOGFILE")
	c.requestsSet = fs.Changed("requests")
	if c.timeLimit > 0 && !c.requestsSet && c.rate == 0 {
		c.requests = 50000
	}
	if c.rate > 0 && !fs.Changed("concurrency") {
		// a rate with one connection drops whatever arrives while it is
		// busy: size the bound on requests in flight from the rate
		c.concurrency = engine.DefaultVUsFor(max(c.rate, c.rateStart))
	}
	return c, c.validate()
}

func (c *abConfig) validate() error {
	switch {
	case c.requests < 1:
		return fmt.Errorf("-n %d: the number of requests must be at least 1", c.requests)
	case c.concurrency < 1:
		return fmt.Errorf("-c %d: concurrency must be at least 1", c.concurrency)
	case c.timeLimit < 0:
		return fmt.Errorf("-t %v: the time limit must not be negative", c.timeLimit)
	case c.timeout < 0:
		return fmt.Errorf("-s %v: the timeout must not be negative", c.timeout)
	case c.postFile != "" && c.putFile != "":
		return fmt.Errorf("-p %q and -u %q: give only one body file", c.postFile, c.putFile)
	case c.rate < 0 || math.IsNaN(c.rate) || math.IsInf(c.rate, 0):
		return fmt.Errorf("--rate %v: want requests per second above 0", c.rate)
	case c.rate > 0 && c.rampUp > 0:
		return fmt.Errorf("--rate %v with --ramp-up %v: choose arrivals (open model) or a ramp of users (closed)", c.rate, c.rampUp)
	case c.goroutines && (c.rate > 0 || c.rampUp > 0):
		return fmt.Errorf("--goroutines with --rate %v / --ramp-up %v: one goroutine per connection is how the connection slots (-c) run; arrivals and a ramp of users have their own", c.rate, c.rampUp)
	case c.rate == 0 && c.rateStart >= 0:
		return fmt.Errorf("--rate-start %v without --rate", c.rateStart)
	case c.maxLag <= 0:
		return fmt.Errorf("--max-lag %v: must be above 0", c.maxLag)
	case c.h2Conns < 1:
		return fmt.Errorf("--h2-conns %d: at least 1", c.h2Conns)
	case c.key != "" && c.cert == "":
		return fmt.Errorf("--key %q without --cert", c.key)
	case !strings.EqualFold(c.certType, "PEM") && !strings.EqualFold(c.certType, "P12"):
		return fmt.Errorf("--cert-type %q: want PEM or P12", c.certType)
	case strings.EqualFold(c.certType, "P12") && c.key != "":
		return fmt.Errorf("--key %q with --cert-type P12: the key is in the P12 file", c.key)
	case c.pass != "" && !strings.EqualFold(c.certType, "P12"):
		return errors.New("--pass is for a --cert-type P12 file")
	case c.jsonReqs && c.jsonFile == "":
		return errors.New("--json-requests without -j: give the file to write")
	case c.follow < 0:
		return fmt.Errorf("-L %d: must not be negative", c.follow)
	case c.head && (c.postFile != "" || c.putFile != ""):
		return fmt.Errorf("-i with -p %q / -u %q: a HEAD request has no body", c.postFile, c.putFile)
	}
	if _, err := c.tlsConfig(); err != nil {
		return err
	}
	for _, h := range c.headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("-H %q: want 'Name: value'", h)
		}
	}
	for _, ck := range c.cookies {
		if !strings.Contains(ck, "=") {
			return fmt.Errorf("-C %q: want 'name=value'", ck)
		}
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: want http[s]://host[:port]/path", scenario.RedactURL(c.url))
	}
	return nil
}

// tlsVersions are the versions --tls-max names.
var tlsVersions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// tlsConfig is the TLS configuration the version and cipher flags ask
// for; nil when they ask for nothing.
func (c *abConfig) tlsConfig() (*tls.Config, error) {
	if !c.tls12 && !c.tls13 && c.tlsMax == "" && c.ciphers == "" {
		return nil, nil
	}
	conf := &tls.Config{}
	switch {
	case c.tls13:
		conf.MinVersion = tls.VersionTLS13
	case c.tls12:
		conf.MinVersion = tls.VersionTLS12
	}
	if c.tlsMax != "" {
		v, ok := tlsVersions[c.tlsMax]
		if !ok {
			return nil, fmt.Errorf("--tls-max %q: want 1.2 or 1.3", c.tlsMax)
		}
		if conf.MinVersion > v {
			return nil, fmt.Errorf("--tls-max %q is below the minimum the --tlsv1.x flag asks for", c.tlsMax)
		}
		conf.MaxVersion = v
	}
	if c.ciphers != "" {
		byName := map[string]uint16{}
		for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			byName[cs.Name] = cs.ID
		}
		for _, name := range strings.FieldsFunc(c.ciphers, func(r rune) bool { return r == ':' || r == ',' }) {
			id, ok := byName[strings.TrimSpace(name)]
			if !ok {
				return nil, fmt.Errorf("--ciphers: %q is not a cipher suite Go knows (IANA names, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", name)
			}
			conf.CipherSuites = append(conf.CipherSuites, id)
		}
		if len(conf.CipherSuites) == 0 {
			return nil, fmt.Errorf("--ciphers %q: no cipher suite in it", c.ciphers)
		}
	}
	return conf, nil
}

// plan turns the flags into a loadtest plan: one run of one step
// repeated -n times.
func (c *abConfig) plan() (*loadtest.Plan, error) {
	var step *scenario.Step
	switch {
	case c.postFile != "" || c.putFile != "":
		file, method := c.postFile, "POST"
		if c.putFile != "" {
			file, method = c.putFile, "PUT"
		}
		body, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("body file: %w", err)
		}
		if c.method != "" {
			method = c.method
		}
		step = scenario.Request(method, c.url).BodyFrom(rawBody(body)).ContentType(c.contentType)
	case c.head:
		step = scenario.Head(c.url)
	case c.method != "":
		step = scenario.Request(strings.ToUpper(c.method), c.url)
	default:
		step = scenario.Get(c.url)
	}
	for _, h := range c.headers {
		name, value, _ := strings.Cut(h, ":")
		step.Header(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if len(c.cookies) > 0 {
		step.Header("Cookie", strings.Join(c.cookies, "; "))
	}
	if c.timeout > 0 {
		step.TimeLimit(time.Duration(c.timeout * float64(time.Second)))
	}
	keep := loadtest.DefaultKeepLevel
	if c.verbosity >= 3 {
		keep = scenario.KeepHeaders
	}
	run := scenario.Run("ab", step).Repeat(c.requests).AutoCookies(false)
	opts := []loadtest.Option{
		loadtest.Runs(run), loadtest.Concurrency(c.concurrency), loadtest.KeepAlive(c.keepAlive),
		loadtest.KeepLevel(keep), loadtest.UserAgent("benchgate-ab/" + abVersion),
		loadtest.DefaultStatus(), // ApacheBench: a non-2xx response is counted, not failed
	}
	if !c.http2 {
		opts = append(opts, loadtest.HTTP10()) // as ab sends
	}
	if c.proxy != "" {
		p := c.proxy
		if !strings.Contains(p, "://") {
			p = "http://" + p
		}
		opts = append(opts, loadtest.Proxy(p))
	}
	if c.proxyCACert != "" {
		opts = append(opts, loadtest.ProxyCAFile(c.proxyCACert))
	}
	if c.proxyInsec {
		opts = append(opts, loadtest.ProxyInsecureSkipVerify())
	}
	if c.insecure {
		opts = append(opts, loadtest.InsecureSkipVerify())
	}
	if c.caCert != "" {
		opts = append(opts, loadtest.CAFile(c.caCert))
	}
	if c.compressed {
		opts = append(opts, loadtest.AcceptEncoding())
	}
	if c.http2 {
		opts = append(opts, loadtest.HTTP2(c.h2Conns))
	}
	switch {
	case c.cert != "" && strings.EqualFold(c.certType, "P12"):
		opts = append(opts, loadtest.ClientPKCS12(c.cert, c.pass))
	case c.cert != "":
		opts = append(opts, loadtest.ClientCert(c.cert, c.key))
	}
	if c.pins != "" {
		opts = append(opts, loadtest.PinnedPublicKey(c.pins))
	}
	if c.certStatus {
		opts = append(opts, loadtest.OCSPStaple(true))
	}
	if conf, err := c.tlsConfig(); err != nil {
		return nil, err
	} else if conf != nil {
		opts = append(opts, loadtest.TLSConfig(conf))
	}
	if c.goroutines {
		opts = append(opts, loadtest.WithExecutor(engine.Slots{Goroutines: true}))
	}
	if c.rampUp > 0 {
		rounds := (c.requests + c.concurrency - 1) / c.concurrency
		opts = append(opts, loadtest.VirtualUsers(engine.VUs{Start: min(c.rampStart, c.concurrency), Max: c.concurrency,
			RampUp: c.rampUp, Rounds: rounds}))
	}
	if c.rate > 0 {
		opts = append(opts, loadtest.ArrivalRate(c.arrivals())) // -t is the schedule's length
	}
	// -t bounds every run, whatever the rate; with -n, whichever comes first
	opts = append(opts, loadtest.TimeLimit(time.Duration(c.timeLimit*float64(time.Second))))
	if c.follow > 0 {
		opts = append(opts, loadtest.FollowRedirects(c.follow))
	}
	if c.debug {
		opts = append(opts, loadtest.LogRequests(c.stderr))
	}
	return loadtest.New(opts...), nil
}

// arrivals is the --rate schedule: -t seconds, else as long as -n
// arrivals take (at the rate, or on the ramp from --rate-start); with
// -t and -n both, it ends at whichever comes first.
func (c *abConfig) arrivals() engine.Arrivals {
	from := c.rate
	if c.rateStart >= 0 {
		from = c.rateStart
	}
	d := time.Duration(c.timeLimit * float64(time.Second))
	if d <= 0 {
		d = time.Duration(float64(c.requests) / ((from + c.rate) / 2) * float64(time.Second))
	}
	a := engine.Arrivals{StartRate: from, Stages: []engine.RateStage{{Target: c.rate, Duration: d}}, MaxVUs: c.concurrency, MaxLag: c.maxLag}
	if c.requestsSet || c.timeLimit <= 0 {
		a.MaxIterations = c.requests
	}
	return a
}

// rawBody is a body sent as is, never read as a template.
type rawBody []byte

func (b rawBody) Build(*scenario.Response, scenario.Vars) ([]byte, bool, error) { return b, true, nil }

func runAB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseABFlags(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintf(stdout, "This is benchgate ab, Version %s (ApacheBench 2.3 flags)\n", abVersion)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchgate ab:", err)
		return 2
	}
	plan, err := c.plan()
	if err == nil && c.keyLog != "" {
		// as curl: the session secrets go to SSLKEYLOGFILE, appended
		var f *os.File
		if f, err = os.OpenFile(c.keyLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			defer f.Close()
			plan.Apply(loadtest.TLSKeyLog(f))
		} else {
			err = fmt.Errorf("SSLKEYLOGFILE: %w", err)
		}
	}
	if err == nil {
		err = plan.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchgate ab:", err)
		return 2
	}
	if c.keyLog != "" {
		fmt.Fprintf(stderr, "warning: TLS session secrets are written to %s (SSLKEYLOGFILE)\n", loadtest.Printable(c.keyLog))
	}
	if !c.quiet {
		fmt.Fprintf(stderr, "Benchmarking %s (be patient)...\n", loadtest.Printable(scenario.RedactURL(c.url)))
	}
	report, err := plan.Execute(ctx)
	if report.DidNotRun() {
		fmt.Fprintln(stderr, "benchgate ab:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchgate ab: stopped: %v; results so far:\n", err)
	}
	writeABSummary(stdout, c, report)
	if c.csvFile != "" {
		if werr := writeFileAtomic(c.csvFile, func(w io.Writer) error { return writeABCSV(w, report) }); werr != nil {
			fmt.Fprintln(stderr, "benchgate ab:", werr)
			return 1
		}
	}
	if c.gnuplot != "" {
		if werr := writeFileAtomic(c.gnuplot, func(w io.Writer) error { return writeGnuplot(w, report) }); werr != nil {
			fmt.Fprintln(stderr, "benchgate ab:", werr)
			return 1
		}
	}
	if c.stepsCSV != "" {
		if werr := writeFileAtomic(c.stepsCSV, report.WriteCSV); werr != nil {
			fmt.Fprintln(stderr, "benchgate ab:", werr)
			return 1
		}
	}
	if c.jsonFile != "" {
		write := report.WriteJSON
		if c.jsonReqs {
			write = report.WriteJSONWithRequests
		}
		if werr := writeFileAtomic(c.jsonFile, write); werr != nil {
			fmt.Fprintln(stderr, "benchgate ab:", werr)
			return 1
		}
	}
	if err != nil || (report.GoodResponses == 0 && report.ResponsesFailed > 0) || len(report.StepsNeverSent()) > 0 {
		return 1 // interrupted, nothing worked at all (ab gives up too), or nothing was sent
	}
	if a := report.Arrivals; a != nil && a.Dropped > 0 {
		// the rate asked for was not kept: the numbers above are not the
		// server's at that rate
		fmt.Fprintf(stderr, "benchgate ab: %d of %d arrivals dropped (no connection free within --max-lag %v): the rate was not kept; raise -c or lower --rate\n",
			a.Dropped, a.Planned, c.maxLag)
		return 1
	}
	return 0
}
