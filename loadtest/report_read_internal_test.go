package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// synthReportJSON is the JSON of a recorded report of runs × steps whose
// iterations span seconds: windows with histograms, failures, phases.
func synthReportJSON(tb testing.TB, runs, steps, iters int, seconds int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(runs), uint64(steps*1000+iters)))
	repeat := make([]int, runs)
	its := make([][]int, runs)
	for r := range runs {
		repeat[r] = iters
		for i := range iters {
			its[r] = append(its[r], i)
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := record(synthPlan(runs, steps, repeat, 4), start, synthResults(rng, runs, steps, its, start, time.Duration(seconds)*time.Second))
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// sameRead fails unless data reads the same with its windows cut out and
// read apart as with encoding/json reading it all: the same report, or
// an error both ways.
func sameRead(t *testing.T, data []byte) (cut *Report, err error) {
	t.Helper()
	cut, err = decodeReport(data, true)
	whole, werr := decodeReport(data, false)
	switch {
	case (err == nil) != (werr == nil):
		t.Fatalf("read with the windows cut out: error %v; by encoding/json: error %v", err, werr)
	case err == nil && !reflect.DeepEqual(cut, whole):
		t.Fatalf("read with the windows cut out, the report differs from encoding/json's:\n%s", firstDiff(cut, whole))
	}
	return cut, err
}

// firstDiff names the first window or field where a and b differ.
func firstDiff(a, b *Report) string {
	for i := range min(len(a.Runs), len(b.Runs)) {
		for k := range min(len(a.Runs[i].Steps), len(b.Runs[i].Steps)) {
			sa, sb := a.Runs[i].Steps[k], b.Runs[i].Steps[k]
			if len(sa.Windows) != len(sb.Windows) {
				return fmt.Sprintf("run %d step %d: %d windows, %d", i, k, len(sa.Windows), len(sb.Windows))
			}
			for w := range sa.Windows {
				if !reflect.DeepEqual(sa.Windows[w], sb.Windows[w]) {
					return fmt.Sprintf("run %d step %d window %d: %+v, %+v", i, k, w, sa.Windows[w], sb.Windows[w])
				}
			}
		}
	}
	return "elsewhere than the windows"
}

// TestReadJSONCutWindowsSameAsEncodingJSON: WriteJSON's files (several
// runs and steps, failures, phases, a window every 200 ms) read with
// their windows cut out give the report encoding/json gives, every
// window's histogram included; the windows were indeed read apart; and
// the report written again is the same file.
func TestReadJSONCutWindowsSameAsEncodingJSON(t *testing.T) {
	for _, c := range []struct{ runs, steps, iters, seconds int }{{1, 1, 1, 1}, {2, 3, 200, 20}, {1, 4, 2000, 60}} {
		data := synthReportJSON(t, c.runs, c.steps, c.iters, c.seconds)
		_, cuts, ok := cutWindows(data)
		if !ok || len(cuts) != c.runs*c.steps {
			t.Fatalf("%+v: cutWindows: ok %v, %d steps' windows cut, want %d", c, ok, len(cuts), c.runs*c.steps)
		}
		r, err := sameRead(t, data)
		if err != nil {
			t.Fatal(err)
		}
		windows := 0
		for _, run := range r.Runs {
			for _, s := range run.Steps {
				windows += len(s.Windows)
				for _, w := range s.Windows {
					if w.Latency != nil && w.Latency.Count() != w.Good {
						t.Fatalf("a window of %d good responses has %d latencies", w.Good, w.Latency.Count())
					}
				}
			}
		}
		if windows < c.runs*c.steps*c.seconds {
			t.Errorf("%+v: %d windows read", c, windows)
		}
		var again bytes.Buffer
		if err := r.WriteJSON(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Errorf("%+v: written again, the file differs", c)
		}
	}
}

// TestReadJSONCutWindowsOddForms: texts the cutter leaves to
// encoding/json, or reads, give the same report or error as
// encoding/json: keys in other case or repeated, escapes, null and
// empty windows, other keys in a window, a histogram that does not
// decode, trailing text, deep nesting.
func TestReadJSONCutWindowsOddForms(t *testing.T) {
	data := string(synthReportJSON(t, 1, 2, 20, 2))
	at := strings.Index(data, `"windows": [`)
	if at < 0 {
		t.Fatal("no windows")
	}
	forms := map[string]string{
		"as written":        data,
		"Windows":           strings.Replace(data, `"windows"`, `"Windows"`, 1),
		"WINDOWS twice":     strings.Replace(data, `"windows": [`, `"WINDOWS": [{"good": 1}], "windows": [`, 1),
		"windows twice":     strings.Replace(data, `"windows": [`, `"windows": [{"good": 1}], "windows": [`, 1),
		"windows escaped":   strings.Replace(data, `"windows"`, `"\u0077indows"`, 1),
		"windows null":      strings.Replace(data, `"windows": [`, `"windows": null, "x": [`, 1),
		"windows empty":     strings.Replace(data, `"windows": [`, `"windows": [], "x": [`, 1),
		"window key Good":   strings.Replace(data, `"good": `, `"Good": `, 1),
		"window extra key":  strings.Replace(data, `"good": `, `"bad": 1, "good": `, 1),
		"window good twice": strings.Replace(data, `"good": `, `"good": 0, "good": `, 1),
		"window good 1.0":   strings.Replace(data, `"good": 1,`, `"good": 1.0,`, 1),
		"window latency null": strings.Replace(data[:at], "", "", 0) +
			strings.Replace(data[at:], `"latency": {`, `"latency": null, "x": {`, 1),
		"histogram broken": data[:at] + strings.Replace(data[at:], `"hdr": "HISTF`, `"hdr": "HISTx`, 1),
		"histogram other":  data[:at] + strings.Replace(data[at:], `"min_us"`, `"Min_us"`, 1),
		"runs twice":       strings.Replace(data, `"runs": [`, `"runs": [], "runs": [`, 1),
		"Runs":             strings.Replace(data, `"runs": [`, `"Runs": [`, 1),
		"steps in Kelvin":  strings.Replace(data, `"steps": [`, `"ſteps": [`, 1),
		"trailing":         data + "x",
		"trailing space":   data + " \n",
		"deep":             strings.Replace(data, `"runs": [`, `"x": `+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`, "runs": [`, 1),
		"string escapes":   strings.Replace(data, `"runs": [`, `"x": {"a\"\\\u00e9\n": "\ud83d\ude00"}, "runs": [`, 1),
		"bad escape":       strings.Replace(data, `"runs": [`, `"x": "\q", "runs": [`, 1),
		"not an object":    "[" + data + "]",
	}
	for name, text := range forms {
		t.Run(name, func(t *testing.T) { sameRead(t, []byte(text)) })
	}
}

// FuzzReadJSONCutWindows: whatever the text, reading it with its
// windows cut out gives encoding/json's report, or an error as it does.
func FuzzReadJSONCutWindows(f *testing.F) {
	f.Add(synthReportJSON(f, 1, 2, 20, 2))
	f.Add(synthReportJSON(f, 2, 1, 5, 1))
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":1,"steps":[{"good":1,"sent":1,"statuses":{"200":1},"windows":[{"good":1}]}]}]}`))
	f.Add([]byte(`{"version":2,"runs":[{"steps":[{"windows":[{"good":0,"failed":1,"latency":"HISTFAAAAB14nJNpmSzMwMDAzQABzFCaEURcm7yEAQDwqAg/"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := sameRead(t, data)
		if err != nil && !errors.Is(&invalidReportError{err}, ErrInvalidReport) {
			t.Fatal("not ErrInvalidReport")
		}
		_ = r
	})
}

// histDump is a histogram's whole state, to compare with one read by
// an earlier ReadJSON (testdata/readjson/histograms.json).
type histDump struct {
	Where  string     `json:"where"`
	Paged  bool       `json:"paged"`
	Counts [][2]int64 `json:"counts"`
	Count  int64      `json:"count"`
	Min    int64      `json:"min"`
	Max    int64      `json:"max"`
	Sum    uint64     `json:"sum_bits"`
	SumSq  uint64     `json:"sum_squares_bits"`
}

// dumpHists lists every histogram of r: the report's, each run's, each
// step's phases and windows.
func dumpHists(r *Report) []histDump {
	var out []histDump
	put := func(where string, l *Latency) {
		if l == nil {
			out = append(out, histDump{Where: where + " nil"})
			return
		}
		d := histDump{Where: where, Paged: l.pages != nil, Count: l.count, Min: l.min, Max: l.max, Sum: math.Float64bits(l.sum), SumSq: math.Float64bits(l.sumSq)}
		l.each(func(idx int, n int64) bool { d.Counts = append(d.Counts, [2]int64{int64(idx), n}); return true })
		out = append(out, d)
	}
	put("report", r.Latency)
	for _, run := range r.Runs {
		put(run.Name, run.Latency)
		for _, s := range run.Steps {
			w := run.Name + " " + s.Name
			put(w+" latency", s.Latency)
			put(w+" connect", s.Connect)
			put(w+" first_byte", s.FirstByte)
			put(w+" tls", s.TLSHandshake)
			put(w+" corrected", s.Corrected)
			for i, win := range s.Windows {
				put(w+" window "+string(rune('0'+i%10)), win.Latency)
			}
		}
	}
	return out
}

// TestReadJSONOfEarlierFile: a file written by WriteJSON before the
// histograms and windows had their own readers and writer
// (testdata/readjson/report.json: 2 runs of 3 steps, 10 s, failures,
// TLS and corrected latencies) reads into the histograms that ReadJSON
// read then (histograms.json: every counter, count, minimum, maximum,
// sums, whether paged, of every histogram and window), the same report
// as encoding/json reads, and is written again byte for byte.
func TestReadJSONOfEarlierFile(t *testing.T) {
	data, err := os.ReadFile("testdata/readjson/report.json")
	if err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile("testdata/readjson/histograms.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []histDump
	if err := json.Unmarshal(dump, &want); err != nil {
		t.Fatal(err)
	}
	r, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got := dumpHists(r)
	if len(got) != len(want) {
		t.Fatalf("%d histograms read, %d then", len(got), len(want))
	}
	windows := 0
	for i := range want {
		if strings.Contains(want[i].Where, "window") {
			windows++
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("histogram %d (%s) read as\n%+v\nthen as\n%+v", i, want[i].Where, got[i], want[i])
		}
	}
	if windows < 100 {
		t.Fatalf("only %d windows in the file", windows)
	}
	sameRead(t, data)
	var again bytes.Buffer
	if err := r.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), data) {
		t.Error("written again, the file differs")
	}
}
