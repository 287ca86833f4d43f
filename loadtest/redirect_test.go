package loadtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// seen is what a test server was sent, request by request.
type seen struct {
	mu   sync.Mutex
	reqs []string // "METHOD path body=… auth=… cookie=… ct=… host=…"
}

func (s *seen) add(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, fmt.Sprintf("%s %s body=%s auth=%s cookie=%s ct=%s", r.Method, r.URL.RequestURI(), body,
		r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("Content-Type")))
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// TestFollowRedirects: relative, absolute and port-carrying Locations,
// method and body by status, what crosses to another origin, cookies
// set on the way, the hop limit, and the counts.
func TestFollowRedirects(t *testing.T) {
	var other seen
	far := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.add(r)
		io.WriteString(w, "far away")
	}))
	t.Cleanup(far.Close)
	var here seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		here.add(r)
		switch r.URL.Path {
		case "/a":
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
			w.Header().Set("Location", "b?x=1")
			w.WriteHeader(302)
		case "/b":
			time.Sleep(30 * time.Millisecond)
			w.Header().Set("Location", "/c")
			w.WriteHeader(301)
		case "/c":
			io.WriteString(w, "done")
		case "/post303":
			http.Redirect(w, r, "/c", 303)
		case "/post307":
			http.Redirect(w, r, "/c", 307)
		case "/post308":
			http.Redirect(w, r, "/c", 308)
		case "/away":
			w.Header().Set("Location", far.URL+"/there")
			w.WriteHeader(302)
		case "/loop":
			http.Redirect(w, r, "/loop", 302)
		case "/ftp":
			w.Header().Set("Location", "ftp://example.com/x")
			w.WriteHeader(302)
		case "/two":
			w.Header().Add("Location", "/c")
			w.Header().Add("Location", "/a")
			w.WriteHeader(302)
		case "/nolocation":
			w.WriteHeader(302)
		}
	}))
	t.Cleanup(srv.Close)

	type want struct {
		here, other []string
		failed      string // reason substring, "" when good
		followed    int64
	}
	cases := []struct {
		name string
		step *scenario.Step
		want want
	}{
		{"relative and absolute-path Locations, cookie set on the way",
			scenario.Get("/a").Header("Authorization", "Bearer t").ExpectBodyContains("done"),
			want{here: []string{
				"GET /a body= auth=Bearer t cookie= ct=",
				"GET /b?x=1 body= auth=Bearer t cookie=hop=1 ct=",
				"GET /c body= auth=Bearer t cookie=hop=1 ct="}, followed: 2}},
		{"303 turns a POST into GET without a body",
			scenario.Post("/post303", "k=v").ContentType("application/x-www-form-urlencoded"),
			want{here: []string{
				"POST /post303 body=k=v auth= cookie= ct=application/x-www-form-urlencoded",
				"GET /c body= auth= cookie= ct="}, followed: 1}},
		{"307 keeps method and body",
			scenario.Post("/post307", "k=v").ContentType("application/x-www-form-urlencoded"),
			want{here: []string{
				"POST /post307 body=k=v auth= cookie= ct=application/x-www-form-urlencoded",
				"POST /c body=k=v auth= cookie= ct=application/x-www-form-urlencoded"}, followed: 1}},
		{"308 keeps method and body",
			scenario.Request("PUT", "/post308").Body("k=v"),
			want{here: []string{
				"PUT /post308 body=k=v auth= cookie= ct=application/x-www-form-urlencoded",
				"PUT /c body=k=v auth= cookie= ct=application/x-www-form-urlencoded"}, followed: 1}},
		{"Authorization and Cookie stay with the first origin",
			scenario.Get("/away").Header("Authorization", "Bearer t").Header("Cookie", "s=1"),
			want{here: []string{"GET /away body= auth=Bearer t cookie=s=1 ct="},
				other: []string{"GET /there body= auth= cookie= ct="}, followed: 1}},
		{"the hop limit fails the step",
			scenario.Get("/loop").FollowRedirects(3),
			want{here: []string{"GET /loop body= auth= cookie= ct=", "GET /loop body= auth= cookie= ct=",
				"GET /loop body= auth= cookie= ct=", "GET /loop body= auth= cookie= ct="},
				failed: `redirect limit 3 reached (next Location "/loop")`, followed: 3}},
		{"a Location that is not http fails the step",
			scenario.Get("/ftp"),
			want{here: []string{"GET /ftp body= auth= cookie= ct="}, failed: `redirect to "ftp://example.com/x": unsupported scheme "ftp"`}},
		{"two Locations fail the step",
			scenario.Get("/two"),
			want{here: []string{"GET /two body= auth= cookie= ct="}, failed: "redirect with 2 Location fields"}},
		{"a 3xx without Location is the answer",
			scenario.Get("/nolocation"),
			want{here: []string{"GET /nolocation body= auth= cookie= ct="}}},
		{"FollowRedirects(0) on the step follows none",
			scenario.Get("/a").FollowRedirects(0),
			want{here: []string{"GET /a body= auth= cookie= ct="}}},
	}
	for _, goroutines := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/goroutines=%v", tc.name, goroutines), func(t *testing.T) {
				here.reqs, other.reqs = nil, nil
				var log bytes.Buffer
				report := execute(t, loadtest.Runs(scenario.Run("r", tc.step)), loadtest.BaseURL(srv.URL),
					loadtest.FollowRedirects(engine.DefaultMaxRedirects), loadtest.KeepAlive(true), loadtest.LogRequests(&log),
					loadtest.WithExecutor(engine.Slots{Goroutines: goroutines}))
				if got := here.list(); strings.Join(got, "\n") != strings.Join(tc.want.here, "\n") {
					t.Errorf("this origin got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want.here, "\n"))
				}
				if got := other.list(); strings.Join(got, "\n") != strings.Join(tc.want.other, "\n") {
					t.Errorf("the other origin got %q, want %q", got, tc.want.other)
				}
				s := report.Runs[0].Steps[0]
				if s.Sent != 1 || s.Followed != tc.want.followed {
					t.Errorf("sent %d followed %d, want 1 and %d", s.Sent, s.Followed, tc.want.followed)
				}
				reason := ""
				for r := range s.Failures {
					reason = r
				}
				if (tc.want.failed == "") != (s.Failed == 0) || !strings.Contains(reason, tc.want.failed) {
					t.Errorf("failed %d %q, want %q", s.Failed, reason, tc.want.failed)
				}
				// the log has every request of the chain, numbered
				lines := 0
				sc := bufio.NewScanner(&log)
				for sc.Scan() {
					var l struct {
						Hop      int  `json:"hop"`
						Followed bool `json:"followed"`
					}
					if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
						t.Fatal(err)
					}
					last := lines == int(tc.want.followed)
					if l.Hop != lines || l.Followed == last {
						t.Errorf("log line %d: hop %d followed %v", lines, l.Hop, l.Followed)
					}
					lines++
				}
				if lines != int(tc.want.followed)+1 {
					t.Errorf("%d log lines, want %d", lines, tc.want.followed+1)
				}
			})
		}
	}
}

// TestRedirectChainLatency: a step's latency spans its redirect chain;
// its request record keeps the last request's own times.
func TestRedirectChainLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(60 * time.Millisecond)
			http.Redirect(w, r, "/fast", 302)
		}
	}))
	t.Cleanup(srv.Close)
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/slow").FollowRedirects(1))), loadtest.BaseURL(srv.URL))
	s := report.Runs[0].Steps[0]
	if s.Good != 1 || s.Followed != 1 {
		t.Fatalf("good %d followed %d", s.Good, s.Followed)
	}
	if got := s.Latency.Max(); got < 60*time.Millisecond {
		t.Errorf("step latency %v, want the chain's (≥ 60ms)", got)
	}
	rq, _ := report.Runs[0].Requests.At(0)
	if rq.Total >= 60*time.Millisecond || rq.Status != 200 {
		t.Errorf("record: %v status %d, want the last request's own time", rq.Total, rq.Status)
	}
}

// TestVUsFollow: the follow iterator follows redirects for steps that
// set nothing, and a post-delay comes after the whole chain.
func TestVUsFollow(t *testing.T) {
	var here seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		here.add(r)
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", 302)
		}
	}))
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var post []time.Duration
	v := engine.VUs{Max: 2, Follow: true, Trace: func(e engine.VUEvent) {
		mu.Lock()
		post = append(post, e.Post)
		mu.Unlock()
	}}
	run := scenario.Run("r", scenario.Get("/start").PostDelay(5*time.Millisecond, 0), scenario.Get("/start").FollowRedirects(0))
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v), loadtest.KeepAlive(true))
	if got := len(here.list()); got != 2*3 {
		t.Errorf("%d requests, want 6 (two VUs: /start, /end, /start)", got)
	}
	if s := report.Runs[0].Steps[0]; s.Good != 2 || s.Followed != 2 || s.Corrected == nil || s.Corrected.Count() != 2 {
		t.Errorf("step 1: good %d followed %d, corrected latencies %v (the chain keeps its intended start)", s.Good, s.Followed, s.Corrected)
	}
	if s := report.Runs[0].Steps[1]; s.Good != 2 || s.Followed != 0 || s.Statuses[302] != 2 {
		t.Errorf("step 2: good %d followed %d statuses %v", s.Good, s.Followed, s.Statuses)
	}
	if len(post) != 4 {
		t.Errorf("%d traced requests, want 4 (one per step)", len(post))
	}
}

// TestRedirectHopWarning: bytes left over after a followed 3xx close the
// connection and are counted as the step's warning, as for any response.
func TestRedirectHopWarning(t *testing.T) {
	url := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			for h, _ := br.ReadString('\n'); h != "\r\n" && h != ""; h, _ = br.ReadString('\n') {
			}
			if strings.Contains(line, "/a ") {
				io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfake")
				continue
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal")
		}
	})
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(url+"/a").FollowRedirects(1).ExpectBodyContains("real"))),
		loadtest.KeepAlive(true))
	s := report.Runs[0].Steps[0]
	if s.Good != 1 || s.Followed != 1 || len(s.Warnings) != 1 {
		t.Errorf("good %d followed %d warnings %v (%v)", s.Good, s.Followed, s.Warnings, s.Failures)
	}
}

// TestExecutorFollowRedirects: VUs.FollowRedirects and
// Arrivals.FollowRedirects take the plan's and the step's name and a
// count: a chain of two redirects fails a step that may follow one and
// passes one that may follow two; the deprecated Follow is
// FollowRedirects DefaultMaxRedirects; a negative count is refused
// before any request.
func TestExecutorFollowRedirects(t *testing.T) {
	var here seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		here.add(r)
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", 302)
		case "/b":
			http.Redirect(w, r, "/c", 302)
		}
	}))
	t.Cleanup(srv.Close)
	arrivals := func(n int, follow bool) loadtest.Option {
		return loadtest.ArrivalRate(engine.Arrivals{Rate: 100, Duration: 20 * time.Millisecond, MaxVUs: 2, FollowRedirects: n, Follow: follow})
	}
	vus := func(n int, follow bool) loadtest.Option {
		return loadtest.VirtualUsers(engine.VUs{Max: 2, FollowRedirects: n, Follow: follow})
	}
	for _, tc := range []struct {
		name         string
		exec         func(n int, follow bool) loadtest.Option
		n            int
		follow, good bool
	}{
		{"VUs 1", vus, 1, false, false},
		{"VUs 2", vus, 2, false, true},
		{"VUs Follow", vus, 0, true, true},
		{"Arrivals 1", arrivals, 1, false, false},
		{"Arrivals 2", arrivals, 2, false, true},
		{"Arrivals Follow", arrivals, 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := scenario.Run("r", scenario.Get("/a"))
			report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), tc.exec(tc.n, tc.follow))
			s := report.Runs[0].Steps[0]
			if s.Sent == 0 {
				t.Fatal("nothing sent")
			}
			if tc.good && (s.Good != s.Sent || s.Statuses[200] != s.Sent) {
				t.Errorf("good %d of %d, statuses %v: want every chain followed to /c", s.Good, s.Sent, s.Statuses)
			}
			if !tc.good && (s.Failed != s.Sent || s.Kinds[failure.Redirect] != s.Sent) {
				t.Errorf("failed %d of %d, kinds %v: want every step failed at the redirect limit", s.Failed, s.Sent, s.Kinds)
			}
		})
	}
	for _, o := range []loadtest.Option{vus(-1, false), arrivals(-1, false)} {
		before := len(here.list())
		err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/a"))), loadtest.BaseURL(srv.URL), o).Validate()
		if err == nil || !strings.Contains(err.Error(), "FollowRedirects") || !strings.Contains(err.Error(), "-1") {
			t.Errorf("FollowRedirects -1: error %v, want one naming the field and value", err)
		}
		if len(here.list()) != before {
			t.Error("a request was sent")
		}
	}
}
