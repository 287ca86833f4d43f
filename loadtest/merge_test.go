package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// TestPlanHash: the plan hash is the same in every shard of a plan and
// whatever the seed, and changes with each setting that shapes the
// traffic.
func TestPlanHash(t *testing.T) {
	run := func(mod func(*scenario.Step) *scenario.Step, runOpts ...func(*scenario.RunDef) *scenario.RunDef) loadtest.Option {
		s1 := scenario.Get("/a?x=1").Header("X-Test", "one").ExpectBodyContains("ok")
		if mod != nil {
			s1 = mod(s1)
		}
		r := scenario.Run("shop", s1, scenario.Post("/b", "k=v")).Repeat(10)
		for _, o := range runOpts {
			r = o(r)
		}
		return loadtest.Runs(r)
	}
	base := []loadtest.Option{run(nil), loadtest.BaseURL("http://127.0.0.1:9"), loadtest.Concurrency(2)}
	hash := func(opts ...loadtest.Option) string {
		t.Helper()
		h, err := loadtest.PlanHashForTest(loadtest.New(append(append([]loadtest.Option{}, base...), opts...)...))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	want := hash()
	for name, opts := range map[string][]loadtest.Option{
		// a sharded plan needs a seed, which the hash leaves out; each
		// shard's share (its repeat counts, its concurrency) too
		"shard 1 of 2": {loadtest.Seed(7), loadtest.Shard(0, 2)},
		"shard 2 of 2": {loadtest.Seed(7), loadtest.Shard(1, 2)},
		"a seed":       {loadtest.Seed(42), loadtest.Shard(1, 2)},
		"T0":           {loadtest.StartAt(time.Now().Add(time.Hour), time.Second)},
	} {
		if got := hash(opts...); got != want {
			t.Errorf("%s: plan hash %s, the plan's %s", name, got, want)
		}
	}
	vus := loadtest.VirtualUsers(engine.VUs{Max: 3, Rounds: 3})
	if a, b := hash(vus), hash(vus, loadtest.Seed(7), loadtest.Shard(1, 2)); a != b {
		t.Errorf("VUs: shard 2 of 2 (1 of the 3 VUs) has plan hash %s, the whole plan %s", b, a)
	}
	seen := map[string]string{"base": want}
	for name, opts := range map[string][]loadtest.Option{
		"concurrency": {loadtest.Concurrency(3)},
		"keep-alive":  {loadtest.KeepAlive(false)},
		"HTTP/1.0":    {loadtest.HTTP10()},
		"time limit":  {loadtest.TimeLimit(time.Minute)},
		"for":         {loadtest.For(time.Minute)},
		"base URL":    {loadtest.BaseURL("http://127.0.0.1:10")},
		"user agent":  {loadtest.UserAgent("other")},
		"priority":    {loadtest.WithPriority(loadtest.RunPriority)},
		"VUs":         {loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 3})},
		"VUs rounds":  {loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 4})},
		"arrivals":    {loadtest.ArrivalRate(engine.Arrivals{Rate: 10, Duration: time.Second, MaxVUs: 2})},
		"URL": {run(func(s *scenario.Step) *scenario.Step {
			return scenario.Get("/a?x=2").Header("X-Test", "one").ExpectBodyContains("ok")
		})},
		"header": {run(func(s *scenario.Step) *scenario.Step {
			return scenario.Get("/a?x=1").Header("X-Test", "two").ExpectBodyContains("ok")
		})},
		"expectation": {run(func(s *scenario.Step) *scenario.Step {
			return scenario.Get("/a?x=1").Header("X-Test", "one").ExpectBodyContains("ok!")
		})},
		"status": {run(func(s *scenario.Step) *scenario.Step { return s.ExpectStatus(201) })},
		"repeat": {run(nil, func(r *scenario.RunDef) *scenario.RunDef { return r.Repeat(11) })},
		"run name": {run(nil, func(r *scenario.RunDef) *scenario.RunDef {
			return scenario.Run("shop2", scenario.Get("/a?x=1").Header("X-Test", "one").ExpectBodyContains("ok"), scenario.Post("/b", "k=v")).Repeat(10)
		})},
		"body": {loadtest.Runs(scenario.Run("shop", scenario.Get("/a?x=1").Header("X-Test", "one").ExpectBodyContains("ok"), scenario.Post("/b", "k=w")).Repeat(10))},
	} {
		got := hash(opts...)
		for other, h := range seen {
			if h == got {
				t.Errorf("%s: the same plan hash as %s", name, other)
			}
		}
		seen[name] = got
	}
}

// shardPlan is a plan of two runs against url.
func shardPlan(url string, opts ...loadtest.Option) *loadtest.Plan {
	return loadtest.New(append([]loadtest.Option{loadtest.BaseURL(url), loadtest.Concurrency(3), loadtest.Seed(11),
		loadtest.Runs(
			scenario.Run("browse", scenario.Get("/"), scenario.Get("/item")).Repeat(20),
			scenario.Run("buy", scenario.Post("/cart", "id=1")).Repeat(10),
		)}, opts...)...)
}

func shardServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// runShards executes the plan as each of n shards, side by side from
// one T0, as the shards of one execution run.
func runShards(t *testing.T, url string, n int) []*loadtest.Report {
	t.Helper()
	out := make([]*loadtest.Report, n)
	errs := make([]error, n)
	t0 := time.Now().Add(300 * time.Millisecond)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[k], errs[k] = shardPlan(url, loadtest.Shard(k, n), loadtest.StartAt(t0, 0)).Execute(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestMergeExecutedShards: two shards executed for real merge into a
// report whose counts are the sums and whose histograms hold the sums
// of the shards' values; it is a Report like any other: the matchers,
// a comparison, the JSON round trip, the report check and the HTML page
// work on it.
func TestMergeExecutedShards(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 2)
	a, b := shards[0], shards[1]
	for k, r := range shards {
		m := r.Shard
		if m == nil || m.Index != k || m.Count != 2 || m.PlanHash == "" || m.BinaryHash == "" || m.PID == 0 || m.Seed != 11 ||
			m.Histogram.Window != loadtest.DefaultWindow || !m.Start.Equal(r.Started) {
			t.Fatalf("shard %d: manifest %+v", k, m)
		}
	}
	if a.Shard.PlanHash != b.Shard.PlanHash {
		t.Fatalf("plan hashes differ: %s and %s", a.Shard.PlanHash, b.Shard.PlanHash)
	}
	// one plan value executed as one shard, then as another: the same hash
	p := shardPlan(srv.URL, loadtest.Shard(0, 2))
	r0, err0 := p.Execute(context.Background())
	r1, err1 := p.Apply(loadtest.Shard(1, 2)).Execute(context.Background())
	if err0 != nil || err1 != nil || r0.Shard.PlanHash != a.Shard.PlanHash || r1.Shard.PlanHash != a.Shard.PlanHash || r1.Shard.Index != 1 {
		t.Errorf("one plan executed twice: hashes %s, %s, want %s (%v, %v)", r0.Shard.PlanHash, r1.Shard.PlanHash, a.Shard.PlanHash, err0, err1)
	}
	whole, err := shardPlan(srv.URL).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if whole.Shard != nil {
		t.Errorf("a plan run whole has a shard manifest: %+v", whole.Shard)
	}
	m, err := loadtest.Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if m.Shard != nil || len(m.Shards) != 2 || m.Shards[0].Index != 0 || m.Shards[1].Index != 1 {
		t.Errorf("merged: shard %+v, shards %+v", m.Shard, m.Shards)
	}
	for _, c := range []struct {
		name        string
		got, a, b   int64
		wantNonZero bool
	}{
		{"configured", m.RequestsConfigured, a.RequestsConfigured, b.RequestsConfigured, true},
		{"sent", m.RequestsSent, a.RequestsSent, b.RequestsSent, true},
		{"good", m.GoodResponses, a.GoodResponses, b.GoodResponses, true},
		{"failed", m.ResponsesFailed, a.ResponsesFailed, b.ResponsesFailed, false},
		{"bytes received", m.BytesReceived, a.BytesReceived, b.BytesReceived, true},
		{"latency count", m.Latency.Count(), a.Latency.Count(), b.Latency.Count(), true},
		{"run browse latency", m.Run("browse").Latency.Count(), a.Run("browse").Latency.Count(), b.Run("browse").Latency.Count(), true},
		{"step buy 1 good", m.Run("buy").Step(0).Good, a.Run("buy").Step(0).Good, b.Run("buy").Step(0).Good, true},
		{"step buy 1 first byte", m.Run("buy").Step(0).FirstByte.Count(), a.Run("buy").Step(0).FirstByte.Count(), b.Run("buy").Step(0).FirstByte.Count(), true},
	} {
		if c.got != c.a+c.b || c.wantNonZero && c.got == 0 {
			t.Errorf("%s: merged %d, shards %d + %d", c.name, c.got, c.a, c.b)
		}
	}
	// each shard sends its segment: together, what the whole plan sends
	if m.GoodResponses != whole.GoodResponses || m.RequestsConfigured != whole.RequestsConfigured {
		t.Errorf("the two shards together: %d good of %d configured, the whole plan %d of %d", m.GoodResponses, m.RequestsConfigured, whole.GoodResponses, whole.RequestsConfigured)
	}
	var windows int64
	for _, w := range m.Run("browse").Step(1).Windows {
		windows += w.Good
	}
	if windows != m.Run("browse").Step(1).Good {
		t.Errorf("windows hold %d good, the step %d", windows, m.Run("browse").Step(1).Good)
	}
	if !strings.HasPrefix(m.Session, "merge-") || m.Session == a.Session {
		t.Errorf("merged session %q (shards' %q)", m.Session, a.Session)
	}

	// the matchers take it
	for name, matcher := range map[string]interface {
		Match(any) (bool, error)
	}{
		"HaveNoFailures":      matchers.HaveNoFailures(),
		"HavePercentileBelow": matchers.HavePercentileBelow(99, time.Minute),
		"HaveErrorRateBelow":  matchers.HaveErrorRateBelow(0.01),
	} {
		if ok, err := matcher.Match(m); !ok || err != nil {
			t.Errorf("%s on the merged report: %v, %v", name, ok, err)
		}
	}
	if ok, err := matchers.HavePercentileBelow(99, time.Nanosecond).Match(m); ok || err != nil {
		t.Errorf("HavePercentileBelow(99, 1ns) on the merged report: %v, %v", ok, err)
	}
	// a comparison with it
	if c := loadtest.CompareExecutions([]*loadtest.Report{m, m}, []*loadtest.Report{m, m}, loadtest.CompareOptions{}); c == nil || len(c.Regressions()) > 0 {
		t.Errorf("a merged report compared with itself: %v", c)
	}

	// the JSON round trip (ReadJSON's report check included) keeps it
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := loadtest.ReadJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the merged report read back: %v", err)
	}
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("the merged report written, read and written again differs")
	}
	if len(back.Shards) != 2 || back.Shards[1].PlanHash != a.Shard.PlanHash {
		t.Errorf("shards read back: %+v", back.Shards)
	}
	// a shard read back from JSON merges like the one in memory
	var sa, sb bytes.Buffer
	a.WriteJSON(&sa)
	b.WriteJSON(&sb)
	ra, err1 := loadtest.ReadJSON(&sa)
	rb, err2 := loadtest.ReadJSON(&sb)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if m2, err := loadtest.Merge(ra, rb); err != nil || m2.Latency.Count() != m.Latency.Count() {
		t.Errorf("shards read from JSON: %v", err)
	}

	var page bytes.Buffer
	if err := m.WriteHTML(&page); err != nil || !strings.Contains(page.String(), "browse") || !strings.Contains(page.String(), "merged from 2 shards of plan") {
		t.Errorf("HTML of the merged report: %v (%d bytes)", err, page.Len())
	}
	var sum bytes.Buffer
	if err := m.WriteSummary(&sum); err != nil || !strings.Contains(sum.String(), "buy") {
		t.Errorf("summary of the merged report: %v\n%s", err, sum.String())
	}
}

// TestMergeRefuses: reports that are not the shards of one execution of
// one plan are refused, naming them and the values, as invalid.
func TestMergeRefuses(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 3)
	clone := func(r *loadtest.Report) *loadtest.Report {
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		c, err := loadtest.ReadJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	names := []string{"s0.json", "s1.json", "s2.json"}
	for _, tc := range []struct {
		name  string
		edit  func(rs []*loadtest.Report) []*loadtest.Report
		wants []string
	}{
		{"missing", func(rs []*loadtest.Report) []*loadtest.Report { return rs[:1] }, []string{"2 of 3 shards missing: 1/3, 2/3"}},
		{"duplicated", func(rs []*loadtest.Report) []*loadtest.Report { rs[2] = clone(rs[1]); return rs }, []string{"shard 1/3 twice: s1.json and s2.json"}},
		{"no manifest", func(rs []*loadtest.Report) []*loadtest.Report { rs[1].Shard = nil; return rs }, []string{"s1.json has no shard manifest"}},
		{"count", func(rs []*loadtest.Report) []*loadtest.Report { rs[2].Shard.Count = 4; return rs }, []string{"s0.json is one of 3 shards, s2.json one of 4"}},
		{"plan", func(rs []*loadtest.Report) []*loadtest.Report { rs[1].Shard.PlanHash = "feedbeef"; return rs }, []string{"s0.json and s1.json ran different plans", "feedbeef"}},
		{"seed", func(rs []*loadtest.Report) []*loadtest.Report { rs[1].Shard.Seed, rs[1].Seed = 12, 12; return rs }, []string{"different seeds: 11 and 12"}},
		{"histogram", func(rs []*loadtest.Report) []*loadtest.Report {
			rs[1].Shard.Histogram.Window, rs[1].Window = time.Second, time.Second
			return rs
		}, []string{"s0.json and s1.json keep different histograms"}},
		{"binary", func(rs []*loadtest.Report) []*loadtest.Report { rs[2].Shard.BinaryHash = "0123456789abcdef"; return rs }, []string{"different executables", "0123456789ab", "AllowBinaryMismatch"}},
		{"error", func(rs []*loadtest.Report) []*loadtest.Report { rs[0].Err = errors.New("boom"); return rs }, []string{"s0.json carries an error: boom"}},
		{"T0", func(rs []*loadtest.Report) []*loadtest.Report { rs[1].Shard.T0 = time.Unix(100, 0); return rs }, []string{"different start times T0"}},
		{"runs", func(rs []*loadtest.Report) []*loadtest.Report { rs[1].Runs[1].Name = "sell"; return rs }, []string{`run 2 is "buy" of 1 steps and "sell" of 1`}},
	} {
		rs := tc.edit([]*loadtest.Report{clone(shards[0]), clone(shards[1]), clone(shards[2])})
		m, err := loadtest.MergeWith(loadtest.MergeOptions{Names: names}, rs...)
		if err == nil || m != nil {
			t.Errorf("%s: merged", tc.name)
			continue
		}
		if !errors.Is(err, loadtest.ErrInvalidReport) {
			t.Errorf("%s: %v does not wrap ErrInvalidReport", tc.name, err)
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", tc.name, err, w)
			}
		}
	}
	// other executables, allowed: merged, with a warning naming them
	rs := []*loadtest.Report{clone(shards[0]), clone(shards[1]), clone(shards[2])}
	rs[2].Shard.BinaryHash = "0123456789abcdef"
	m, err := loadtest.MergeWith(loadtest.MergeOptions{AllowBinaryMismatch: true}, rs...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "0123456789ab (shards 2/3)") {
		t.Errorf("warnings: %q", m.Warnings)
	}
	// a manifest out of range is not read
	var buf bytes.Buffer
	shards[0].WriteJSON(&buf)
	bad := strings.Replace(buf.String(), `"index": 0,`, `"index": 3,`, 1)
	if _, err := loadtest.ReadJSON(strings.NewReader(bad)); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "field shard: index 3 of 3") {
		t.Errorf("a manifest of shard index 3 of 3 read: %v", err)
	}
	// a merged report is not a shard
	if _, err := loadtest.Merge(m); err == nil || !strings.Contains(err.Error(), "no shard manifest") {
		t.Errorf("merging a merged report: %v", err)
	}
}

// TestMergeStopsAndWarnings: a shard that stopped early is named in the
// merged report, with why; warnings and hook errors keep their shard.
func TestMergeStopsAndWarnings(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 2)
	shards[1].StoppedBy, shards[1].StopCode = "time limit 1s", loadtest.StopTimeLimit
	shards[0].Warnings = append(shards[0].Warnings, "something odd")
	shards[1].HookErrors = append(shards[1].HookErrors, "VU 3: init: refused")
	// a shard whose hooks failed holds less than its part: refused
	// unless the caller takes the verdict in hand
	if _, err := loadtest.Merge(shards...); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "report 2 did not run to its end (a hook failed: VU 3: init: refused)") {
		t.Errorf("a shard whose hook failed merged: %v", err)
	}
	m, err := loadtest.MergeWith(loadtest.MergeOptions{AllowFailed: true}, shards...)
	if err != nil {
		t.Fatal(err)
	}
	if m.StoppedBy != "shard 1/2: time limit 1s" || !errors.Is(m.StopErr(), loadtest.ErrTimeLimit) {
		t.Errorf("stopped by %q (%v)", m.StoppedBy, m.StopErr())
	}
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "shard 0/2: something odd") {
		t.Errorf("warnings %q", m.Warnings)
	}
	if len(m.HookErrors) != 1 || m.HookErrors[0] != "shard 1/2: VU 3: init: refused" {
		t.Errorf("hook errors %q", m.HookErrors)
	}
	// the worst generator is kept, named
	shards[0].Generator = &loadtest.Generator{Delay: time.Millisecond}
	shards[1].Generator = &loadtest.Generator{Delay: 30 * time.Millisecond, Saturated: true, Why: "delay probe late", Cause: loadtest.CauseNeighbour}
	m, err = loadtest.MergeWith(loadtest.MergeOptions{AllowFailed: true}, shards...)
	if err != nil {
		t.Fatal(err)
	}
	if g := m.Generator; g == nil || !g.Saturated || g.Why != "shard 1/2: delay probe late" || !strings.Contains(m.Invalid(), "shard 1/2") {
		t.Errorf("generator %+v, invalid %q", g, m.Invalid())
	}
}

// TestMergeAllowMissing: with MergeOptions.AllowMissing the shards that
// are there are added up (their counts and histograms, nothing of the
// missing one's), the missing shard is named in MissingShards, a warning
// and the report's error, and no matcher passes on the partial report,
// neither as merged nor read back from its file. Without the option the
// same shards are refused (TestMergeRefuses).
func TestMergeAllowMissing(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 3)
	a, c := shards[0], shards[2]
	m, err := loadtest.MergeWith(loadtest.MergeOptions{AllowMissing: true}, c, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := a.RequestsSent + c.RequestsSent; m.RequestsSent != want || m.Latency.Count() != a.Latency.Count()+c.Latency.Count() {
		t.Errorf("merged %d requests, %d latencies; the two shards sent %d", m.RequestsSent, m.Latency.Count(), want)
	}
	for i, run := range m.Runs {
		for k, s := range run.Steps {
			if want := a.Runs[i].Steps[k].Sent + c.Runs[i].Steps[k].Sent; s.Sent != want {
				t.Errorf("run %q step %d: %d sent, the two shards %d", run.Name, k+1, s.Sent, want)
			}
		}
	}
	if len(m.Shards) != 2 || m.Shards[0].Index != 0 || m.Shards[1].Index != 2 {
		t.Errorf("shards: %v", m.Shards)
	}
	check := func(where string, r *loadtest.Report) {
		t.Helper()
		if !slices.Equal(r.MissingShards, []int{1}) {
			t.Errorf("%s: missing shards %v, want [1]", where, r.MissingShards)
		}
		if !errors.Is(r.Err, loadtest.ErrMissingShards) || !strings.Contains(fmt.Sprint(r.Err), "1 of 3 shards missing: 1/3") {
			t.Errorf("%s: error %v", where, r.Err)
		}
		if ok, _ := matchers.HaveNoFailures().Match(r); ok {
			t.Errorf("%s: HaveNoFailures passed on a merge missing a shard", where)
		}
	}
	check("merged", m)
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "shards missing: 1/3") {
		t.Errorf("warnings: %q", m.Warnings)
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := loadtest.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	check("read back", back)
	// a file whose missing shards do not make up the count with the
	// merged ones is refused
	var file bytes.Buffer
	m.WriteJSON(&file)
	for _, edit := range []string{"[0]", "[5]", "[1, 1]", "[]"} {
		bad := regexp.MustCompile(`"missing_shards": \[[^\]]*\]`).ReplaceAllString(file.String(), `"missing_shards": `+edit)
		if bad == file.String() {
			t.Fatalf("no missing_shards in the file:\n%s", file.String())
		}
		if _, err := loadtest.ReadJSON(strings.NewReader(bad)); !errors.Is(err, loadtest.ErrInvalidReport) {
			t.Errorf("missing_shards %s read: %v", edit, err)
		}
	}
	var sum strings.Builder
	if err := back.WriteSummary(&sum); err != nil || !strings.Contains(sum.String(), "FAILED: merge: shards missing from the merge: 1 of 3 shards missing: 1/3") {
		t.Errorf("summary (%v):\n%s", err, sum.String())
	}
	// a shard twice is still refused
	if _, err := loadtest.MergeWith(loadtest.MergeOptions{AllowMissing: true}, a, a); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a shard twice: %v", err)
	}
}

// TestMergeRefusesFailedShardsFromFiles: a shard that was cancelled, or
// whose hooks failed, is refused by the merge also when read from its
// file, where its Err is not kept (a merge of half the plan passed the
// matchers).
func TestMergeRefusesFailedShardsFromFiles(t *testing.T) {
	srv := shardServer(t)
	for _, c := range []struct {
		name string
		edit func(r *loadtest.Report)
		want string
	}{
		{"cancelled", func(r *loadtest.Report) { r.StoppedBy, r.StopCode = "context canceled", loadtest.StopCanceled }, "stopped: context canceled"},
		{"deadline", func(r *loadtest.Report) { r.StoppedBy, r.StopCode = "context deadline exceeded", loadtest.StopDeadline }, "stopped: context deadline exceeded"},
		{"group hooks", func(r *loadtest.Report) { r.FailedShards = []int{0} }, "the ShardInit or ShardExit hooks"},
		{"hook", func(r *loadtest.Report) { r.HookErrors = []string{"VU 1: exit: boom"} }, "a hook failed: VU 1: exit: boom"},
	} {
		shards := runShards(t, srv.URL, 2)
		c.edit(shards[1])
		var buf bytes.Buffer
		if err := shards[1].WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		read, err := loadtest.ReadJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		_, err = loadtest.MergeWith(loadtest.MergeOptions{Names: []string{"s0.json", "s1.json"}}, shards[0], read)
		if !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "s1.json did not run to its end ("+c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestShardReportGivesNoVerdict: one shard's report holds its part of
// the plan alone, so a verdict on it (which passed on 1/N of the work)
// is refused until the shards are merged or its Shard is taken off.
func TestShardReportGivesNoVerdict(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 2)
	if why := shards[1].NoVerdict(); !strings.Contains(why, "this report is shard 1/2 of a plan") {
		t.Errorf("a shard's report gives a verdict: %q", why)
	}
	m, err := loadtest.Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if why := m.NoVerdict(); why != "" {
		t.Errorf("the merged report gives no verdict: %q", why)
	}
	shards[1].Shard = nil
	if why := shards[1].NoVerdict(); why != "" {
		t.Errorf("a shard judged alone on purpose gives no verdict: %q", why)
	}
}

// TestMergeKnowsOneExecution: a merge takes the shards of one execution
// of the plan: a report copied under another shard's index is refused
// (each execution has its own id), and so are shards given no common T0
// that did not run at the same time (unless allowed); a shard count no
// merge could hold is refused before anything is allocated for it.
func TestMergeKnowsOneExecution(t *testing.T) {
	srv := shardServer(t)
	shards := runShards(t, srv.URL, 3)
	for k, r := range shards {
		if len(r.Shard.Execution) != 32 {
			t.Fatalf("shard %d: execution id %q", k, r.Shard.Execution)
		}
		for _, o := range shards[:k] {
			if o.Shard.Execution == r.Shard.Execution {
				t.Fatalf("two executions share the id %s", r.Shard.Execution)
			}
		}
	}
	// shard 0's file copied as shard 2's, its index edited
	var buf bytes.Buffer
	if err := shards[0].WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	forged, err := loadtest.ReadJSON(bytes.NewReader(bytes.Replace(buf.Bytes(), []byte(`"index": 0,`), []byte(`"index": 2,`), 1)))
	if err != nil || forged.Shard.Index != 2 {
		t.Fatalf("the edited copy: %v", err)
	}
	for _, opts := range []loadtest.MergeOptions{{}, {AllowMissing: true, AllowFailed: true, AllowApart: true, AllowBinaryMismatch: true}} {
		opts.Names = []string{"s0.json", "s1.json", "s2.json"}
		_, err = loadtest.MergeWith(opts, shards[0], shards[1], forged)
		if !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "s0.json (shard 0/3) and s2.json (shard 2/3) are one execution") {
			t.Errorf("%+v: a copy under another index merged: %v", opts, err)
		}
	}
	// a file whose execution id was taken off or changed is refused
	for _, id := range []string{"", "x"} {
		edited := bytes.Replace(buf.Bytes(), []byte(`"execution": "`+shards[0].Shard.Execution+`"`), []byte(`"execution": "`+id+`"`), 1)
		if _, err := loadtest.ReadJSON(bytes.NewReader(edited)); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "field shard.execution") {
			t.Errorf("execution id %q: %v", id, err)
		}
	}
	if _, err := loadtest.Merge(shards...); err != nil {
		t.Fatalf("the shards themselves: %v", err)
	}

	// shards without T0, one run after the others had ended
	plan := func(k int) *loadtest.Report {
		r, err := shardPlan(srv.URL, loadtest.Shard(k, 2)).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := plan(0)
	time.Sleep(20 * time.Millisecond) // ended before b began, for sure
	b := plan(1)
	_, err = loadtest.MergeWith(loadtest.MergeOptions{Names: []string{"a.json", "b.json"}}, a, b)
	if !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "the shards did not run at the same time") ||
		!strings.Contains(err.Error(), "shard 1/2 began at") || !strings.Contains(err.Error(), "AllowApart") {
		t.Errorf("shards run apart without T0 merged: %v", err)
	}
	m, err := loadtest.MergeWith(loadtest.MergeOptions{AllowApart: true}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, "the shards did not run at the same time") {
		t.Errorf("merged apart on purpose, no warning: %q", m.Warnings)
	}

	// a start edited in a file no longer agrees with its manifest's
	buf.Reset()
	if err := shards[1].WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	started := []byte(`"started": "` + shards[1].Started.Format(time.RFC3339Nano) + `"`)
	if !bytes.Contains(buf.Bytes(), started) {
		t.Fatalf("no %s in the report's JSON", started)
	}
	moved := bytes.Replace(buf.Bytes(), started, []byte(`"started": "2100-01-01T00:00:00Z"`), 1)
	if _, err := loadtest.ReadJSON(bytes.NewReader(moved)); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "field started") {
		t.Errorf("a start moved to 2100: %v", err)
	}
	// shards started further apart than a merge lines up: refused, even
	// when allowed to have run apart
	far := *b
	fm := *b.Shard
	far.Started = b.Started.Add(2 * time.Hour)
	fm.Start = far.Started
	far.Shard = &fm
	if _, err := loadtest.MergeWith(loadtest.MergeOptions{AllowApart: true}, a, &far); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "more than the 1h0m0s a merge lines up") {
		t.Errorf("shards 2 h apart: %v", err)
	}

	// shards of several hosts whose clocks are not known to agree: said
	hosted := make([]*loadtest.Report, len(shards))
	for k, r := range shards {
		c, m := *r, *r.Shard
		m.Host, m.Clock = fmt.Sprintf("gen-%d", k), "synchronised, estimated error 1ms, maximum error 20ms"
		if k == 2 {
			m.Clock = "not synchronised (maximum error 16s)"
		}
		c.Shard = &m
		hosted[k] = &c
	}
	if m, err := loadtest.Merge(hosted...); err != nil {
		t.Errorf("shards of several hosts: %v", err)
	} else if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, "some clocks were not known to be synchronised") ||
		!strings.Contains(w, "2/3 on gen-2: not synchronised (maximum error 16s)") {
		t.Errorf("an unsynchronised clock: warnings %q", m.Warnings)
	}

	// a count no merge can hold: refused by the reader and the merge
	big := *shards[1]
	bm := *big.Shard
	bm.Count = 1_000_000_000_000
	big.Shard = &bm
	if _, err := loadtest.Merge(&big); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "at most 1000000 shards") {
		t.Errorf("a count of 10^12: %v", err)
	}
	buf.Reset()
	if err := shards[1].WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	huge := bytes.Replace(buf.Bytes(), []byte(`"count": 3,`), []byte(`"count": 1000000000000,`), 1)
	if _, err := loadtest.ReadJSON(bytes.NewReader(huge)); !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), "field shard") {
		t.Errorf("ReadJSON of a count of 10^12: %v", err)
	}
	// many missing: the first are named, and how many more
	many := *shards[1]
	mm := *many.Shard
	mm.Count = 50
	many.Shard = &mm
	_, err = loadtest.Merge(&many)
	if err == nil || !strings.Contains(err.Error(), "49 of 50 shards missing: 0/50, 2/50,") || !strings.Contains(err.Error(), "20/50, and 29 more") {
		t.Errorf("49 missing: %v", err)
	}
}
