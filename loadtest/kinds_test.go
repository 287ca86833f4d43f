package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/faultserver"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// kindTap runs an executor and keeps the kind of every result recorded
// but the redirects followed.
type kindTap struct {
	engine.Executor // the inner one: its Validate and Work are the tap's
	mu              sync.Mutex
	kinds           []failure.Kind
}

func (k *kindTap) Execute(ctx context.Context, p *engine.Plan, rec engine.Recorder) error {
	return k.Executor.Execute(ctx, p, kindRecorder{rec, k})
}

// recorded returns the kinds recorded, in order.
func (k *kindTap) recorded() []failure.Kind {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.kinds)
}

// kindRecorder keeps the kinds and forwards every call to the
// report's recorder.
type kindRecorder struct {
	engine.Recorder
	k *kindTap
}

func (r kindRecorder) Record(slot int, res *engine.Result) {
	if !res.Followed { // a redirect followed is a good hop of the step's request
		r.k.mu.Lock()
		r.k.kinds = append(r.k.kinds, res.Kind)
		r.k.mu.Unlock()
	}
	r.Recorder.Record(slot, res)
}

// driverOf is the executor of the (sub)test's driver (forEachDriver).
func driverOf(t *testing.T) engine.Executor {
	return engine.Slots{Goroutines: strings.HasSuffix(t.Name(), "/goroutines")}
}

// TestFailureKinds: each kind is set from the real failure, on both
// drivers: loopback servers that refuse, close, answer garbage, hold a
// certificate no one trusts, answer 500, fail an expectation or an
// extraction, stall past a time limit; the step's Kinds count them and
// every recorded Result carries its kind.
func TestFailureKinds(t *testing.T) {
	fs, err := faultserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fs.Close)
	closed, err := faultserver.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	synAddr, stopSYN, err := faultserver.SYNDrop()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSYN)
	silentAddr, stopSilent, err := faultserver.Silent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSilent)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			http.Error(w, "broken", http.StatusInternalServerError)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, `<p id="greeting">hello</p>`)
		}
	}))
	t.Cleanup(app.Close)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	resolver := deadDNS(t)

	const n = 2
	limit := func(s *scenario.Step) *scenario.Step { return s.TimeLimit(3 * time.Second) }
	cases := []struct {
		name  string
		steps []*scenario.Step
		kinds []map[failure.Kind]int64 // per step
		// statuses are the first step's FailedStatuses
		statuses map[int]int64
	}{
		{"status 500", []*scenario.Step{limit(scenario.Get(app.URL + "/500"))},
			[]map[failure.Kind]int64{{failure.Status: n}}, map[int]int64{500: n}},
		{"status not among ExpectStatus", []*scenario.Step{limit(scenario.Get(app.URL + "/").ExpectStatus(201))},
			[]map[failure.Kind]int64{{failure.Status: n}}, map[int]int64{200: n}},
		{"expectation on the body", []*scenario.Step{limit(scenario.Get(app.URL + "/").ExpectBodyContains("goodbye"))},
			[]map[failure.Kind]int64{{failure.Expectation: n}}, nil},
		{"extraction that finds nothing, and the step that needed it",
			[]*scenario.Step{limit(scenario.Get(app.URL+"/").Extract("token", scenario.CSS("#token"))), limit(scenario.Get(app.URL + "/?t={{token}}"))},
			[]map[failure.Kind]int64{{failure.Extraction: n}, {failure.NotSent: n}}, nil},
		{"redirect limit", []*scenario.Step{limit(scenario.Get(app.URL + "/loop").FollowRedirects(1))},
			[]map[failure.Kind]int64{{failure.Redirect: n}}, nil},
		{"connection refused", []*scenario.Step{limit(scenario.Get("http://" + closed + "/"))},
			[]map[failure.Kind]int64{{failure.Connect: n}}, nil},
		{"closed in the middle of the body", []*scenario.Step{limit(scenario.Get(fs.URL + faultserver.ResetBody))},
			[]map[failure.Kind]int64{{failure.ConnectionClosed: n}}, nil},
		{"closed before the Content-Length was sent", []*scenario.Step{limit(scenario.Get(fs.URL + faultserver.ShortBody))},
			[]map[failure.Kind]int64{{failure.ConnectionClosed: n}}, nil},
		{"malformed status line", []*scenario.Step{limit(scenario.Get(fs.URL + faultserver.BadStatus))},
			[]map[failure.Kind]int64{{failure.Parse: n}}, nil},
		{"malformed chunk", []*scenario.Step{limit(scenario.Get(fs.URL + faultserver.BadChunked))},
			[]map[failure.Kind]int64{{failure.Parse: n}}, nil},
		{"untrusted certificate", []*scenario.Step{limit(scenario.Get(tlsSrv.URL + "/"))},
			[]map[failure.Kind]int64{{failure.TLS: n}}, nil},
		{"host that does not resolve", []*scenario.Step{limit(scenario.Get("http://nowhere.invalid/"))},
			[]map[failure.Kind]int64{{failure.DNS: n}}, nil},
		{"step time limit", []*scenario.Step{scenario.Get(fs.URL + faultserver.Slowloris).TimeLimit(150 * time.Millisecond)},
			[]map[failure.Kind]int64{{failure.StepTimeLimit: n}}, nil},
		{"connect timeout", []*scenario.Step{limit(scenario.Get("http://" + synAddr + "/").ConnectTimeout(150 * time.Millisecond))},
			[]map[failure.Kind]int64{{failure.ConnectTimeout: n}}, nil},
		{"I/O timeout", []*scenario.Step{limit(scenario.Get("http://" + silentAddr + "/").IOTimeout(150 * time.Millisecond))},
			[]map[failure.Kind]int64{{failure.IOTimeout: n}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T) {
				tap := &kindTap{Executor: driverOf(t)}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				report, err := loadtest.New(loadtest.Runs(scenario.Run("r", tc.steps...).Repeat(n).Order(scenario.DepthFirst)),
					loadtest.WithResolver(resolver), loadtest.WithExecutor(tap)).Execute(ctx)
				if err != nil {
					t.Fatal(err)
				}
				roundTrip(t, report)
				var want []failure.Kind
				for k, st := range report.Runs[0].Steps {
					if !maps.Equal(st.Kinds, tc.kinds[k]) {
						t.Errorf("step %d: kinds %v, want %v (reasons %v, not sent %v)", k+1, st.Kinds, tc.kinds[k], st.Failures, st.Unsent)
					}
					for kind, c := range tc.kinds[k] {
						if st.KindReasons[kind] == "" {
							t.Errorf("step %d: no example reason for kind %s: %q", k+1, kind, st.KindReasons)
						}
						for range c {
							want = append(want, kind)
						}
					}
				}
				if st := report.Runs[0].Steps[0]; !maps.Equal(st.FailedStatuses, tc.statuses) {
					t.Errorf("failed statuses %v, want %v", st.FailedStatuses, tc.statuses)
				}
				got := tap.recorded()
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("results recorded with kinds %v, want %v", got, want)
				}
			})
		})
	}
}

// TestFailureKindGood: a good response has no kind, and a report of good
// responses no Kinds.
func TestFailureKindGood(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	forEachDriver(t, func(t *testing.T) {
		tap := &kindTap{Executor: driverOf(t)}
		report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(3)), loadtest.WithExecutor(tap)).
			Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := tap.recorded(); !slices.Equal(got, []failure.Kind{failure.None, failure.None, failure.None}) {
			t.Errorf("kinds %v", got)
		}
		if st := report.Runs[0].Steps[0]; st.Kinds != nil || st.FailedStatuses != nil || st.KindReasons != nil {
			t.Errorf("a good step has kinds %v %v %v", st.Kinds, st.FailedStatuses, st.KindReasons)
		}
	})
}

// TestFailureKindInterrupted: a request the cancel cut is of kind
// Interrupted, counted in Interrupted, not in Kinds; the report's StopErr
// is context.Canceled for errors.Is, after a JSON round trip too.
func TestFailureKindInterrupted(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	forEachDriver(t, func(t *testing.T) {
		tap := &kindTap{Executor: driverOf(t)}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-arrived:
				cancel()
			case <-time.After(10 * time.Second):
				cancel()
			}
		}()
		report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/").TimeLimit(15*time.Second)).Repeat(1)),
			loadtest.WithExecutor(tap)).Execute(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if got := tap.recorded(); !slices.Equal(got, []failure.Kind{failure.Interrupted}) {
			t.Errorf("kinds recorded %v, want [interrupted]", got)
		}
		st := report.Runs[0].Steps[0]
		if st.Interrupted != 1 || st.Kinds != nil {
			t.Errorf("interrupted %d, kinds %v", st.Interrupted, st.Kinds)
		}
		if report.StopCode != loadtest.StopCanceled || !errors.Is(report.StopErr(), context.Canceled) || errors.Is(report.StopErr(), loadtest.ErrTimeLimit) {
			t.Errorf("stop code %q, StopErr %v", report.StopCode, report.StopErr())
		}
		if report.StopErr().Error() != report.StoppedBy {
			t.Errorf("StopErr says %q, StoppedBy %q", report.StopErr(), report.StoppedBy)
		}
		var b bytes.Buffer
		if err := report.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		back, err := loadtest.ReadJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(back.StopErr(), context.Canceled) || back.StopErr().Error() != report.StoppedBy {
			t.Errorf("read back: StopErr %v", back.StopErr())
		}
	})
}

// TestStopErrTimeLimit: the plan's time limit is ErrTimeLimit for
// errors.Is; a completed execution has no StopErr.
func TestStopErrTimeLimit(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/hold")).Repeat(2)),
		loadtest.TimeLimit(200*time.Millisecond), loadtest.GracePeriod(-1)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if report.StopCode != loadtest.StopTimeLimit || !errors.Is(report.StopErr(), loadtest.ErrTimeLimit) || errors.Is(report.StopErr(), context.Canceled) {
		t.Errorf("stopped by %q (%q): StopErr %v", report.StoppedBy, report.StopCode, report.StopErr())
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := loadtest.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(back.StopErr(), engine.ErrTimeLimit) {
		t.Errorf("read back: StopErr %v", back.StopErr())
	}
	done, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(2))).Execute(context.Background())
	if err != nil || done.StopErr() != nil || done.StopCode != "" {
		t.Errorf("a completed execution: err %v, StopErr %v, code %q", err, done.StopErr(), done.StopCode)
	}
	// a report written before StopCode: StopErr says StoppedBy, wraps none
	old := &loadtest.Report{StoppedBy: "time limit 1s"}
	if e := old.StopErr(); e == nil || e.Error() != "time limit 1s" || errors.Is(e, loadtest.ErrTimeLimit) {
		t.Errorf("old report: StopErr %v", e)
	}
}

// TestKindsReadJSON: ReadJSON and baselines (merged too) keep the kinds;
// ReadJSON refuses kinds that
// do not add up to the step's failures, an unknown kind, status
// failures beyond the statuses; a report without kinds (written before
// them) still reads.
func TestKindsReadJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(3))).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{`"kinds": {`, `"status": 3`, `"failed_statuses": {`, `"502": 3`, `"kind_reasons": {`} {
		if !strings.Contains(text, want) {
			t.Errorf("the JSON has no %s", want)
		}
	}
	back, err := loadtest.ReadJSON(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	st := back.Runs[0].Steps[0]
	if !maps.Equal(st.Kinds, map[failure.Kind]int64{failure.Status: 3}) || !maps.Equal(st.FailedStatuses, map[int]int64{502: 3}) ||
		st.KindReasons[failure.Status] != report.Runs[0].Steps[0].KindReasons[failure.Status] {
		t.Errorf("read back %v %v %q", st.Kinds, st.FailedStatuses, st.KindReasons)
	}
	// the step's JSON, edited
	edit := func(from, to string) string {
		if !strings.Contains(text, from) {
			t.Fatalf("no %q in the JSON", from)
		}
		return strings.Replace(text, from, to, 1)
	}
	for _, tc := range []struct{ json, want string }{
		{edit(`"kinds": {`, `"kinds": {"parse": 1,`), "field kinds add up to 4, failed + not sent = 3 + 0"},
		{edit(`"kinds": {`, `"kinds": {"stauts": 0,`), `unknown failure kind "stauts"`},
		{edit(`"kinds": {`, `"kinds": {"none": 0,`), "field kinds: 0 × none"},
		{edit(`"failed_statuses": {`, `"failed_statuses": {"404": 1,`), "field failed_statuses: 1 × status 404 (statuses hold 0)"},
		{edit(`"kind_reasons": {`, `"kind_reasons": {"dns": "x",`), "a reason for kind dns, which kinds do not hold"},
	} {
		_, err := loadtest.ReadJSON(strings.NewReader(tc.json))
		if err == nil || !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadJSON: %v, want %q", err, tc.want)
		}
	}
	var sum strings.Builder
	if err := report.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "r / GET "+srv.URL+"/: by kind: status 3\n") {
		t.Errorf("the summary does not give the kinds:\n%s", sum.String())
	}
	// each request's record carries its kind, in JSON too
	var wr bytes.Buffer
	if err := report.WriteJSONWithRequests(&wr); err != nil {
		t.Fatal(err)
	}
	withRequests, err := loadtest.ReadJSON(&wr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*loadtest.Report{report, withRequests} {
		n := 0
		for _, rq := range r.Runs[0].Requests.All() {
			n++
			if rq.Kind != failure.Status || !rq.Failed {
				t.Errorf("request %d: kind %s, failed %v", rq.Index, rq.Kind, rq.Failed)
			}
		}
		if n != 3 {
			t.Errorf("%d request records", n)
		}
	}
	// a baseline keeps them, and merging baselines too
	dir := t.TempDir()
	for _, name := range []string{"a.json", "b.json"} {
		if err := loadtest.WriteBaseline(dir+"/"+name, report); err != nil {
			t.Fatal(err)
		}
	}
	merged, err := loadtest.MergeBaselines(dir+"/a.json", dir+"/b.json")
	if err != nil {
		t.Fatal(err)
	}
	var mb bytes.Buffer
	if err := merged.WriteJSON(&mb); err != nil {
		t.Fatal(err)
	}
	bl, err := loadtest.DecodeBaseline(mb.Bytes())
	if err != nil || len(bl.Executions) != 2 {
		t.Fatalf("merged baseline: %v", err)
	}
	for i, e := range bl.Executions {
		if st := e.Runs[0].Steps[0]; !maps.Equal(st.Kinds, map[failure.Kind]int64{failure.Status: 3}) || !maps.Equal(st.FailedStatuses, map[int]int64{502: 3}) {
			t.Errorf("baseline execution %d: kinds %v %v", i, st.Kinds, st.FailedStatuses)
		}
	}
	old := strings.NewReplacer(`"kinds"`, `"k0"`, `"failed_statuses"`, `"k1"`, `"kind_reasons"`, `"k2"`).Replace(text)
	if back, err := loadtest.ReadJSON(strings.NewReader(old)); err != nil || back.Runs[0].Steps[0].Kinds != nil {
		t.Errorf("a report without kinds: %v", err)
	}
}
