package loadtest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePressure(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		avg10 float64
		total time.Duration
		err   string
	}{
		{"kernel 5.x", "some avg10=97.59 avg60=96.74 avg300=92.93 total=1761243835\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 97.59, 1761243835 * time.Microsecond, ""},
		{"no full line", "some avg10=0.00 avg60=0.10 avg300=0.00 total=12\n", 0, 12 * time.Microsecond, ""},
		{"full first", "full avg10=1.00 avg60=0 avg300=0 total=5\nsome avg10=2.50 avg60=0 avg300=0 total=7", 2.5, 7 * time.Microsecond, ""},
		{"empty", "", 0, 0, `no "some" line`},
		{"no total", "some avg10=1.00 avg60=0 avg300=0\n", 0, 0, "want avg10= and total="},
		{"bad avg", "some avg10=x avg60=0 avg300=0 total=1\n", 0, 0, `avg10 "x"`},
		{"avg above 100", "some avg10=100.5 total=1\n", 0, 0, `avg10 "100.5"`},
		{"negative total", "some avg10=1 total=-1\n", 0, 0, `total "-1"`},
		{"total overflows", "some avg10=1 total=99999999999999999999\n", 0, 0, "total"},
		{"no equals", "some avg10 total=1\n", 0, 0, `field "avg10"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			avg, total, err := parsePressure(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || avg != tt.avg10 || total != tt.total {
				t.Fatalf("= %v, %v, %v; want %v, %v", avg, total, err, tt.avg10, tt.total)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		name string
		text string
		want schedstat
		err  string
	}{
		{"thread", "35371733 3075855919 3519\n", schedstat{35371733, 3075855919, 3519}, ""},
		{"fresh", "0 75834 1", schedstat{0, 75834, 1}, ""},
		{"two fields", "1 2\n", schedstat{}, "want 3 fields"},
		{"four fields", "1 2 3 4\n", schedstat{}, "want 3 fields"},
		{"negative", "1 -2 3\n", schedstat{}, `field 2 "-2"`},
		{"word", "1 2 x\n", schedstat{}, `field 3 "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSchedstat(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		steal, total uint64
		err          string
	}{
		{"linux", "cpu  323734 0 68961 42400 613 0 7590 1982 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n", 1982, 323734 + 68961 + 42400 + 613 + 7590 + 1982, ""},
		// guest time is inside user already: not added twice
		{"guest", "cpu 100 0 0 100 0 0 0 50 40 0\n", 50, 250, ""},
		{"old kernel without steal", "cpu 1 2 3 4 5 6 7\n", 0, 0, "no steal field"},
		{"no cpu line", "cpu0 1 2 3 4 5 6 7 8\n", 0, 0, "no cpu line"},
		{"word", "cpu 1 2 3 x 5 6 7 8\n", 0, 0, `field 4 "x"`},
		{"overflow", "cpu 18446744073709551615 1 0 0 0 0 0 0\n", 0, 0, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steal, total, err := parseProcStat(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || steal != tt.steal || total != tt.total {
				t.Fatalf("= %v, %v, %v; want %v, %v", steal, total, err, tt.steal, tt.total)
			}
		})
	}
}

// FuzzOSParsers: no input makes a parser panic, and what parses is in
// range.
func FuzzOSParsers(f *testing.F) {
	for _, s := range []string{
		"some avg10=97.59 avg60=96.74 avg300=92.93 total=1761243835\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		"35371733 3075855919 3519\n",
		"cpu  323734 0 68961 42400 613 0 7590 1982 0 0\n",
		"some avg10= total=\n", "cpu\n", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if avg, total, err := parsePressure(text); err == nil && (avg < 0 || avg > 100 || total < 0) {
			t.Fatalf("pressure %q: avg10 %v, total %v", text, avg, total)
		}
		if st, err := parseSchedstat(text); err == nil && (st.run < 0 || st.wait < 0 || st.slices < 0) {
			t.Fatalf("schedstat %q: %+v", text, st)
		}
		if steal, total, err := parseProcStat(text); err == nil && steal > total {
			t.Fatalf("stat %q: steal %v of %v", text, steal, total)
		}
	})
}

func TestDiffOS(t *testing.T) {
	a := osSnapshot{hasPressure: true, pressureTotal: time.Second, pressureAvg10: 10,
		hasSchedstat: true, threads: map[int]schedstat{1: {wait: 10, slices: 2}, 2: {wait: 100, slices: 5}, 3: {wait: 7, slices: 1}},
		hasSteal: true, steal: 10, totalTicks: 1000, hasNivcsw: true, nivcsw: 4}
	b := osSnapshot{hasPressure: true, pressureTotal: 3 * time.Second, pressureAvg10: 80,
		// 1 grew, 2 is a new thread with a reused id (went backwards),
		// 3 exited, 4 is new
		hasSchedstat: true, threads: map[int]schedstat{1: {wait: 30, slices: 4}, 2: {wait: 5, slices: 1}, 4: {wait: 50, slices: 3}},
		hasSteal: true, steal: 60, totalTicks: 1500, hasNivcsw: true, nivcsw: 9}
	d := diff(a, b)
	want := osDelta{hasPressure: true, pressureAvg10: 80, pressureStall: 2 * time.Second, hasSchedstat: true, runQueueWait: 70, slices: 5,
		hasSteal: true, stealShare: 0.1, hasNivcsw: true, nivcsw: 5}
	if d != want {
		t.Fatalf("diff = %+v\nwant %+v", d, want)
	}
	if d := diff(osSnapshot{}, b); d.hasPressure || d.hasSchedstat || d.hasSteal || d.hasNivcsw {
		t.Fatalf("a figure absent at the start gave a delta: %+v", d)
	}
	// counters that went backwards give no figure
	if d := diff(b, a); d.hasPressure || d.hasSteal || d.hasNivcsw {
		t.Fatalf("a reset counter gave a delta: %+v", d)
	}
}

// TestJudge: the decision rule on synthetic figures: a quiet machine, a
// neighbour, the generator's own saturation (CPU, GC, an arrival rate it
// cannot keep), and the figures that the old rule misread.
func TestJudge(t *testing.T) {
	all := []string{"pressure", "schedstat", "steal", "rusage"}
	tests := []struct {
		name      string
		g         Generator
		late      uint64
		schedLate uint64
		slices    int64
		saturated bool
		cause     string
		why       []string
		advice    string
		delay     time.Duration
	}{
		{name: "quiet", g: Generator{Cores: 2, CPU: 0.3, GCShare: 0.05, Delay: 300 * time.Microsecond, RunQueueWaitPerSlice: 20 * time.Microsecond, RunQueueShare: 0.02, CPUPressure: 2, Readings: all},
			slices: 5000},
		{name: "busy machine, no delay to speak of", g: Generator{Cores: 2, CPU: 0.2, Delay: 2 * time.Millisecond, RunQueueWaitPerSlice: time.Millisecond, CPUPressure: 95, CPUStall: 0.95, Readings: all},
			slices: 5000, late: 3},
		{name: "neighbour", g: Generator{Cores: 2, CPU: 0.07, GCShare: 0.1, Delay: 40 * time.Millisecond, DelayMax: 90 * time.Millisecond, RunQueueWaitPerSlice: 2 * time.Millisecond, RunQueueShare: 0.9, CPUPressure: 97, CPUStall: 0.9, Wall: time.Second, InvoluntarySwitches: 500, Readings: all},
			late: 50, slices: 3000, saturated: true, cause: CauseNeighbour,
			why:    []string{"woke up to 40ms late", "spent 90% of the time they were ready to run waiting for a CPU", "CPU 7% of 2 cores, GC 10% of that", "CPU pressure 97%", "500 involuntary context switches/s"},
			advice: "compare with a duet", delay: 40 * time.Millisecond},
		{name: "neighbour seen by pressure alone", g: Generator{Cores: 2, CPU: 0.1, Delay: 20 * time.Millisecond, CPUStall: 0.8, Readings: []string{"pressure"}},
			late: 50, saturated: true, cause: CauseNeighbour, why: []string{"tasks waiting for a CPU 80% of the time"}, advice: "compare with a duet", delay: 20 * time.Millisecond},
		{name: "steal", g: Generator{Cores: 2, CPU: 0.1, Delay: 20 * time.Millisecond, Steal: 0.3, Readings: all},
			late: 50, slices: 10, saturated: true, cause: CauseNeighbour, why: []string{"took 30% of the machine's CPU (steal)"}, advice: "duet", delay: 20 * time.Millisecond},
		{name: "own CPU", g: Generator{Cores: 2, CPU: 0.97, GCShare: 0.05, Delay: 30 * time.Millisecond, SchedLatencyP99: 60 * time.Millisecond, RunQueueWaitPerSlice: 100 * time.Microsecond, RunQueueShare: 0.05, Readings: all},
			late: 50, schedLate: 50, slices: 3000, saturated: true, cause: CauseGenerator,
			why: []string{"waited up to 60ms to run", "CPU 97% of 2 cores"}, advice: "lower the concurrency", delay: 60 * time.Millisecond},
		{name: "own GC", g: Generator{Cores: 2, CPU: 0.7, GCShare: 0.4, Delay: time.Millisecond, Readings: all},
			slices: 3000, saturated: true, cause: CauseGenerator, why: []string{"garbage collection took 40% of its CPU"}, advice: "lower the concurrency", delay: time.Millisecond},
		// the old rule's misreading: GC pauses stretched by a neighbour
		// at concurrency 1 are not GC's doing
		{name: "long GC pauses at low CPU", g: Generator{Cores: 2, CPU: 0.07, GCShare: 0.3, GCPause: 700 * time.Millisecond, Wall: time.Second, Delay: 30 * time.Millisecond, RunQueueWaitPerSlice: 3 * time.Millisecond, RunQueueShare: 0.8, Readings: all},
			late: 40, slices: 1000, saturated: true, cause: CauseNeighbour, advice: "duet", delay: 30 * time.Millisecond},
		{name: "arrival rate the generator cannot keep", g: Generator{Cores: 2, CPU: 0.9, Delay: 2 * time.Millisecond, LagP99: 78 * time.Millisecond, Readings: all},
			late: 2, slices: 3000, saturated: true, cause: CauseGenerator, why: []string{"arrivals started up to 78ms late"}, advice: "arrival rate", delay: 78 * time.Millisecond},
		{name: "arrival lag from busy VUs is the server's", g: Generator{Cores: 2, CPU: 0.1, Delay: time.Millisecond, LagP99: 200 * time.Millisecond, Readings: all},
			slices: 3000},
		{name: "unclear cause", g: Generator{Cores: 2, CPU: 0.5, Delay: 20 * time.Millisecond},
			late: 30, saturated: true, advice: "rerun on a quieter machine, or lower the concurrency", delay: 20 * time.Millisecond},
		// a virtual machine's timers wake late with no one else on the
		// CPU: the same in every execution, not a saturated generator
		{name: "late timers on a quiet machine", g: Generator{Cores: 2, CPU: 0.5, Delay: 7 * time.Millisecond, RunQueueWaitPerSlice: 200 * time.Microsecond, RunQueueShare: 0.25, CPUStall: 0.17, Readings: all},
			late: 50, slices: 5000},
		{name: "very late timers on a quiet machine", g: Generator{Cores: 2, CPU: 0.5, Delay: 30 * time.Millisecond, RunQueueWaitPerSlice: 200 * time.Microsecond, RunQueueShare: 0.25, CPUStall: 0.17, Readings: all},
			late: 50, slices: 5000, saturated: true, advice: "rerun on a quieter machine", delay: 30 * time.Millisecond},
		// the study's baseline recorded inside a half-core quota: the
		// threads wait on the run queue, but for the quota, not for a
		// neighbour
		{name: "own CPU quota", g: Generator{Cores: 2, CPU: 0.25, Delay: 45 * time.Millisecond, RunQueueWaitPerSlice: 4 * time.Millisecond, RunQueueShare: 0.7, CPUStall: 0.6,
			CPULimit: 0.5, Throttled: 0.5, ThrottledPeriods: 0.9, Readings: append(all[:4:4], "throttling")},
			late: 50, slices: 3000, saturated: true, cause: CauseQuota,
			why:    []string{"CPU limit of 0.5 cores throttled it: out of quota in 90% of the CFS periods it ran in, its run queues held back 50% of the wall time"},
			advice: "raise the limit or lower the concurrency", delay: 45 * time.Millisecond},
		{name: "quota throttling with a punctual probe", g: Generator{Cores: 2, CPU: 0.25, Delay: time.Millisecond, CPULimit: 1, Throttled: 0.2, ThrottledPeriods: 0.3, Readings: []string{"throttling"}},
			late: 0, slices: 0, saturated: true, cause: CauseQuota, why: []string{"held back 20% of the wall time"}, advice: "Docker --cpus", delay: time.Millisecond},
		{name: "a limit that did not throttle", g: Generator{Cores: 2, CPU: 0.2, Delay: time.Millisecond, RunQueueShare: 0.02, CPULimit: 0.5, Throttled: 0.05, ThrottledPeriods: 0.1, Readings: append(all[:4:4], "throttling")},
			slices: 3000},
		{name: "neighbour under a limit that did not throttle", g: Generator{Cores: 2, CPU: 0.07, Delay: 40 * time.Millisecond, RunQueueWaitPerSlice: 2 * time.Millisecond, RunQueueShare: 0.9, CPULimit: 1.5, Throttled: 0.01, Readings: append(all[:4:4], "throttling")},
			late: 50, slices: 3000, saturated: true, cause: CauseNeighbour, advice: "duet", delay: 40 * time.Millisecond},
		{name: "too few late wake-ups", g: Generator{Cores: 2, CPU: 0.1, Delay: 20 * time.Millisecond, RunQueueWaitPerSlice: 3 * time.Millisecond, Readings: all},
			late: 4, slices: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g
			g.judge(tt.late, tt.schedLate, tt.slices)
			if g.Saturated != tt.saturated || g.Cause != tt.cause {
				t.Fatalf("saturated %v, cause %q; want %v, %q: %s; %s", g.Saturated, g.Cause, tt.saturated, tt.cause, g.Why, g.Advice)
			}
			for _, w := range tt.why {
				if !strings.Contains(g.Why, w) {
					t.Errorf("why %q does not say %q", g.Why, w)
				}
			}
			if !strings.Contains(g.Advice, tt.advice) {
				t.Errorf("advice %q does not say %q", g.Advice, tt.advice)
			}
			if tt.saturated && g.Delay != tt.delay {
				t.Errorf("delay %v, want %v", g.Delay, tt.delay)
			}
			if g.DelayMax < g.Delay {
				t.Errorf("delay max %v below delay %v", g.DelayMax, g.Delay)
			}
			if !tt.saturated && (g.Why != "" || g.Advice != "") {
				t.Errorf("a sound generator has a why %q / advice %q", g.Why, g.Advice)
			}
		})
	}
}

// TestRefusal: on a busy generator a latency bound far above the
// measured value keeps its pass; a near pass and a fail are refused; a
// sound generator refuses nothing.
func TestRefusal(t *testing.T) {
	busy := &Generator{Saturated: true, Cause: CauseNeighbour, Delay: 5 * time.Millisecond, Why: "w", Advice: "use a duet"}
	ms := time.Millisecond
	tests := []struct {
		name       string
		g          *Generator
		got, bound time.Duration
		refused    string
	}{
		{"far pass stands", busy, 12 * ms, 200 * ms, ""},
		{"pass just past the margin stands", busy, 189 * ms, 200 * ms, ""},
		{"near pass refused", busy, 195 * ms, 200 * ms, "p95 195ms is within 10ms of the bound 200ms"},
		{"at the bound refused", busy, 200 * ms, 200 * ms, "within"},
		{"fail refused", busy, 250 * ms, 200 * ms, "p95 250ms is above the bound 200ms while the load generator was late by up to 5ms (other processes took the CPU): w; use a duet"},
		{"sound generator: fail stands", &Generator{Delay: 4 * ms}, 250 * ms, 200 * ms, ""},
		{"sound generator: near pass stands", &Generator{Delay: 4 * ms}, 199 * ms, 200 * ms, ""},
		{"unknown health", nil, 250 * ms, 200 * ms, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.g.Refusal("p95", tt.got, tt.bound)
			if (tt.refused == "") != (got == "") || !strings.Contains(got, tt.refused) {
				t.Fatalf("Refusal(%v, %v) = %q, want %q", tt.got, tt.bound, got, tt.refused)
			}
			if got != "" && !strings.HasPrefix(got, "no verdict: ") {
				t.Errorf("a refusal that does not say so: %q", got)
			}
		})
	}
}

func TestGCShare(t *testing.T) {
	a := cpuClasses{gc: 1, gcIdle: 0.5, idle: 10, total: 20}
	// 2 s busy: 0.5 s of GC work on the application's time, 1 s of
	// idle-time marking (not counted, on either side)
	b := cpuClasses{gc: 2.5, gcIdle: 1.5, idle: 13, total: 26}
	if got := gcShare(a, b); got != 0.25 {
		t.Fatalf("gcShare = %v, want 0.25", got)
	}
	if got := gcShare(a, a); got != 0 {
		t.Fatalf("gcShare of nothing = %v", got)
	}
}

// TestJudgeGoSchedWithoutRunQueue: goroutines that wait for a P while the
// threads get their CPU are the generator's own doing, even below
// SaturatedCPU; with the run queue long too, the neighbour.
func TestJudgeGoSchedWithoutRunQueue(t *testing.T) {
	all := []string{"schedstat"}
	g := Generator{Cores: 2, CPU: 0.6, SchedLatencyP99: 30 * time.Millisecond, RunQueueWaitPerSlice: 50 * time.Microsecond, Readings: all}
	g.judge(0, 50, 1000)
	if !g.Saturated || g.Cause != CauseGenerator {
		t.Fatalf("goroutines queued on the Ps: %+v", g)
	}
	g = Generator{Cores: 2, CPU: 0.3, SchedLatencyP99: 30 * time.Millisecond, RunQueueWaitPerSlice: 3 * time.Millisecond, RunQueueShare: 0.7, Readings: all}
	g.judge(0, 50, 1000)
	if !g.Saturated || g.Cause != CauseNeighbour {
		t.Fatalf("threads waiting on the run queue: %+v", g)
	}
}

// TestChooseRoundTime: a duet's rounds last long enough for each step's
// highest percentile to rest on RoundResponses, at the slower side's
// rate, between the pilot's 500 ms and the longest the budget allows.
func TestChooseRoundTime(t *testing.T) {
	if got := []int{RoundResponses(50), RoundResponses(95), RoundResponses(99), RoundResponses(100)}; !slices.Equal(got, []int{20, 200, 1000, 100000}) {
		t.Fatalf("RoundResponses = %v", got)
	}
	pilot := func(goods ...int64) *Report {
		run := &RunReport{}
		for _, g := range goods {
			run.Steps = append(run.Steps, &StepReport{Good: g})
		}
		return &Report{TotalTime: 500 * time.Millisecond, Runs: []*RunReport{run}}
	}
	tests := []struct {
		name        string
		a, b        *Report
		percentiles []float64
		longest     time.Duration
		want        time.Duration
	}{
		{"fast steps: the pilot's 500ms", pilot(5000, 4000), pilot(4000, 3000), []float64{50, 95}, 1500 * time.Millisecond, 500 * time.Millisecond},
		// 100 responses in 500 ms: 200/s; p95 needs 200: 1 s
		{"p95 of the slower side's slowest step", pilot(400, 100), pilot(400, 200), []float64{50, 95}, 1500 * time.Millisecond, time.Second},
		{"p99 capped by the budget", pilot(400, 100), pilot(400, 200), []float64{50, 99}, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"p50 only", pilot(400, 100), pilot(400, 200), []float64{50}, 1500 * time.Millisecond, 500 * time.Millisecond},
		{"a step with no good response: the longest", pilot(400, 0), pilot(400, 200), []float64{50}, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"longest below the pilot's: the pilot's", pilot(400, 100), pilot(400, 200), []float64{95}, 100 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chooseRoundTime([]*Report{tt.a, tt.b}, tt.percentiles, tt.longest); got != tt.want {
				t.Fatalf("chooseRoundTime = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDiffThrottle: the cgroup that throttled the process most over the
// run counts; one joined during the run, or whose counters went back,
// gives no figure.
func TestDiffThrottle(t *testing.T) {
	a := osSnapshot{hasThrottle: true, cpuLimit: 0.5, throttle: map[string]throttling{
		"/leaf": {periods: 10, throttled: 1, time: time.Second},
		"/pod":  {periods: 10, throttled: 5, time: 2 * time.Second},
		"/gone": {periods: 10, throttled: 5, time: 2 * time.Second},
	}}
	b := osSnapshot{hasThrottle: true, cpuLimit: 0.5, throttle: map[string]throttling{
		"/leaf": {periods: 20, throttled: 2, time: 1500 * time.Millisecond},
		"/pod":  {periods: 30, throttled: 20, time: 5 * time.Second},
		"/new":  {periods: 90, throttled: 90, time: 50 * time.Second},
		"/gone": {periods: 1, throttled: 0, time: 0},
	}}
	d := diff(a, b)
	if !d.hasThrottle || d.throttledTime != 3*time.Second || d.throttledPeriods != 15 || d.periods != 20 || d.cpuLimit != 0.5 {
		t.Fatalf("diff = %+v", d)
	}
	if d := diff(a, osSnapshot{}); d.hasThrottle {
		t.Fatalf("no end reading: %+v", d)
	}
}
