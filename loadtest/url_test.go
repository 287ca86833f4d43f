package loadtest_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestURLCredentials: user information in a URL is sent as Basic
// authorization and never shows in names, summaries or JSON.
func TestURLCredentials(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		mu.Lock()
		got = append(got, u+":"+p+":"+r.URL.String())
		mu.Unlock()
		if !ok || u != "alice" || p != "pw-s3cret" {
			w.WriteHeader(401)
		}
	}))
	t.Cleanup(srv.Close)
	withCreds := strings.Replace(srv.URL, "http://", "http://alice:pw-s3cret@", 1)
	forEachDriver(t, func(t *testing.T) {
		got = nil
		run := scenario.Run("creds", scenario.Get(withCreds+"/a").ExpectStatus(200), scenario.Get(withCreds+"/b?x={{iteration}}").ExpectStatus(200)).
			KeepLevel(scenario.KeepBodies).Repeat(2)
		report := execute(t, loadtest.Runs(run))
		if report.ResponsesFailed != 0 {
			t.Fatalf("failures: %v %v (server saw %q)", report.Runs[0].Steps[0].Failures, report.Runs[0].Steps[1].Failures, got)
		}
		var js bytes.Buffer
		if err := report.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var sum bytes.Buffer
		report.WriteSummary(&sum)
		for where, text := range map[string]string{"JSON": js.String(), "summary": sum.String(), "step name": report.Runs[0].Steps[0].Name} {
			if strings.Contains(text, "pw-s3cret") || strings.Contains(text, "YWxpY2U6cHctczNjcmV0") {
				t.Errorf("the password shows in the %s", where)
			}
		}
	})
}

// TestIPv6 sends to an IPv6 literal on both drivers.
func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != ln.Addr().String() {
			w.WriteHeader(400)
		}
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/six"
	forEachDriver(t, func(t *testing.T) {
		report := execute(t, loadtest.Runs(scenario.Run("v6", scenario.Get(url).ExpectStatus(200)).Repeat(5)), loadtest.KeepAlive(true))
		if report.GoodResponses != 5 {
			t.Fatalf("good %d of 5: %v", report.GoodResponses, report.Runs[0].Steps[0].Failures)
		}
	})
}

// TestCookieJar: the per-iteration jar follows a browser's rules.
func TestCookieJar(t *testing.T) {
	var mu sync.Mutex
	var cookies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.URL.Path+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		if r.URL.Path == "/set" {
			h := w.Header()
			for _, c := range []string{
				"plain=1",
				"secure=1; Secure", // never over http
				"gone=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", // expired: not stored
				"suffix=1; Domain=com",                          // a public suffix: refused
				"ipdomain=1; Domain=127.0.0.2",                  // another IP: refused
				"ownip=1; Domain=127.0.0.1",                     // the same IP: host-only
				"scoped=1; Path=/only",                          // not sent to /other
				"later=1; Max-Age=0",                            // deleted at once
			} {
				h.Add("Set-Cookie", c)
			}
		}
	}))
	t.Cleanup(srv.Close)
	forEachDriver(t, func(t *testing.T) {
		cookies = nil
		run := scenario.Run("jar", scenario.Get(srv.URL+"/set"), scenario.Get(srv.URL+"/other"), scenario.Get(srv.URL+"/only/x")).Repeat(2).Order(scenario.DepthFirst)
		execute(t, loadtest.Runs(run))
		want := []string{"/set ", "/other plain=1; ownip=1", "/only/x scoped=1; plain=1; ownip=1", "/set ", "/other plain=1; ownip=1", "/only/x scoped=1; plain=1; ownip=1"}
		if strings.Join(cookies, "\n") != strings.Join(want, "\n") {
			t.Errorf("cookies sent:\n%s\nwant:\n%s", strings.Join(cookies, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestSecretsStaySecret: at keep level 3, secret header, cookie, form
// and JSON values never reach the JSON report or the summary; their
// names do.
func TestSecretsStaySecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "cookie-s3cret"})
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("secrets",
		scenario.PostForm("/login", scenario.Field("user", "alice"), scenario.Field("password", "form-s3cret")).Header("X-Api-Key", "key-s3cret"),
		scenario.Post("/api", `{"user":"alice","client_secret":"json-s3cret"}`).ContentType("application/json"),
		scenario.Get("/fail?token=query-s3cret&page=2"),
		scenario.PostForm("/pin", scenario.Field("pin", "pin-s3cret")),
	).KeepLevel(scenario.KeepBodies)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.RedactFields("pin"))
	var js, sum bytes.Buffer
	report.WriteJSON(&js)
	report.WriteSummary(&sum)
	for where, text := range map[string]string{"JSON": js.String(), "summary": sum.String()} {
		for _, secret := range []string{"form-s3cret", "key-s3cret", "cookie-s3cret", "json-s3cret", "query-s3cret", "pin-s3cret"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %s", where, secret)
			}
		}
	}
	for _, name := range []string{"password=", "X-Api-Key", "sid=", "client_secret", "token=", "pin="} {
		if !strings.Contains(js.String(), name) {
			t.Errorf("JSON lost the name %s", name)
		}
	}
}
