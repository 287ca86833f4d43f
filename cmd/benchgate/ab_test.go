package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func TestParseABFlags(t *testing.T) {
	c, err := parseABFlags([]string{"-n100", "-c10", "-kq", "-H", "A: 1", "-HB: 2", "-C", "a=1", "-t5", "http://h/p"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.requests != 100 || c.concurrency != 10 || !c.keepAlive || !c.quiet || c.timeLimit != 5 ||
		strings.Join(c.headers, "|") != "A: 1|B: 2" || c.cookies[0] != "a=1" || c.url != "http://h/p" {
		t.Errorf("parsed %+v", c)
	}
	c, _ = parseABFlags([]string{"-t", "2", "http://h/"}, io.Discard)
	if c.requests != 50000 {
		t.Errorf("-t without -n: requests %d, want 50000", c.requests)
	}
}

func TestParseABFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n0", "http://h/"}, "-n 0"},
		{[]string{"-c", "-1", "http://h/"}, "-c -1"},
		{[]string{"-t", "-1", "http://h/"}, "-t -1"},
		{[]string{"-s", "-2", "http://h/"}, "-s -2"},
		{[]string{"-H", "NoColon", "http://h/"}, `-H "NoColon"`},
		{[]string{"-H", ": v", "http://h/"}, `-H ": v"`},
		{[]string{"-C", "novalue", "http://h/"}, `-C "novalue"`},
		{[]string{"ftp://h/"}, `URL "ftp://h/"`},
		{[]string{"not a url"}, `URL "not a url"`},
		{[]string{}, "want exactly one URL, got 0"},
		{[]string{"http://a/", "http://b/"}, "want exactly one URL, got 2"},
		{[]string{"-n", "ten", "http://h/"}, `"ten"`},
		{[]string{"-p", "a", "-u", "b", "http://h/"}, "give only one body file"},
		{[]string{"-i", "-p", "a", "http://h/"}, "HEAD request has no body"},
		{[]string{"--bogus", "http://h/"}, "bogus"},
	}
	for _, tt := range tests {
		_, err := parseABFlags(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want it to contain %q", tt.args, err, tt.want)
		}
	}
}

func FuzzParseABFlags(f *testing.F) {
	f.Add("-n100 -c10 -kq http://h/")
	f.Add("-H A:1 -C a=b -t 1 -s 2 http://h/")
	f.Add("-L -k -n 3 -kL 2 -H -L -L3 --follow -g g.tsv -rldS http://h/")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseABFlags(strings.Fields(line), io.Discard)
		if err == nil {
			if _, err := c.plan(); err != nil && !strings.Contains(err.Error(), "body file") {
				t.Fatalf("valid flags %q gave an invalid plan: %v", line, err)
			}
		}
	})
}

type seen struct {
	mu   sync.Mutex
	reqs []string
}

func (s *seen) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

func (s *seen) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+r.URL.Path+" ct="+r.Header.Get("Content-Type")+" cookie="+r.Header.Get("Cookie")+" x="+r.Header.Get("X-A")+" body="+string(body))
		s.mu.Unlock()
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "hello world")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestABRun(t *testing.T) {
	var s seen
	srv := s.server(t)
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	os.WriteFile(body, []byte(`{"a":1}`), 0o644)
	csv, js := filepath.Join(dir, "p.csv"), filepath.Join(dir, "r.json")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-n20", "-c4", "-k", "-p", body, "-T", "application/json",
		"-C", "a=1", "-C", "b=2", "-H", "X-A: yes", "-e", csv, "-j", js, srv.URL + "/post"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Complete requests:      20", "Failed requests:        0", "Document Length:        11 bytes",
		"Keep-Alive requests:", "Requests per second:", "Connection Times (ms)", "Total:", "100%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if reqs := s.all(); len(reqs) != 20 || reqs[0] != `POST /post ct=application/json cookie=a=1; b=2 x=yes body={"a":1}` {
		t.Errorf("server saw %d requests: %q", len(reqs), reqs)
	}
	c, _ := os.ReadFile(csv)
	if lines := strings.Split(strings.TrimSpace(string(c)), "\n"); len(lines) != 102 || lines[0] != "Percentage served,Time in ms" {
		t.Errorf("csv has %d lines, first %q", len(lines), lines[0])
	}
	f, _ := os.Open(js)
	defer f.Close()
	rep, err := loadtest.ReadJSON(f)
	if err != nil || rep.GoodResponses != 20 {
		t.Errorf("json report: %v, %v", rep, err)
	}
}

func TestABHeadAndMethod(t *testing.T) {
	var s seen
	srv := s.server(t)
	for _, args := range [][]string{{"-i"}, {"-m", "delete"}} {
		var out bytes.Buffer
		if code := run(context.Background(), append(append([]string{"ab", "-q"}, args...), srv.URL+"/x"), &out, io.Discard); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
	}
	if reqs := s.all(); len(reqs) != 2 || !strings.HasPrefix(reqs[0], "HEAD /x") || !strings.HasPrefix(reqs[1], "DELETE /x") {
		t.Errorf("server saw %q", reqs)
	}
}

func TestABInterruptedPrintsPartialResults(t *testing.T) {
	var s seen
	srv := s.server(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"ab", "-q", "-n", "3", "-c", "3", srv.URL + "/slow"}, &out, &errOut)
	if code != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %v", code, time.Since(start))
	}
	if !strings.Contains(errOut.String(), "stopped") || !strings.Contains(out.String(), "Interrupted requests:   3") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}

func TestABTimeoutBoundsWholeResponse(t *testing.T) {
	var s seen
	srv := s.server(t)
	var out bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"ab", "-q", "-v2", "-s", "0.2", srv.URL + "/slow"}, &out, io.Discard)
	if code != 1 || time.Since(start) > 3*time.Second || !strings.Contains(out.String(), "step time limit 200ms exceeded") {
		t.Errorf("exit %d after %v:\n%s", code, time.Since(start), out.String())
	}
}

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"demo", "-n", "5", "-c", "2"}, &out, io.Discard)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, want := range []string{"demo application on http://127.0.0.1:", "good 50, failed 0", "submit form#login", "POST or GET /echo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, io.Discard, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

func TestSoakShort(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"soak", "-d", "1500ms", "--every", "300ms", "-c", "4"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "soak: flat") {
		t.Errorf("no verdict:\n%s", out.String())
	}
}

func TestSoakVerdict(t *testing.T) {
	flat := []soakSample{{heapMB: 1, goroutines: 4}, {heapMB: 5, goroutines: 4}, {heapMB: 6, goroutines: 4}, {heapMB: 5.5, goroutines: 4}}
	if soakVerdict(io.Discard, flat) != 0 {
		t.Error("flat samples judged as growing")
	}
	leak := append(flat, soakSample{heapMB: 200, goroutines: 4})
	if soakVerdict(io.Discard, leak) != 1 {
		t.Error("a growing heap passed")
	}
	gor := append(flat, soakSample{heapMB: 5, goroutines: 40})
	if soakVerdict(io.Discard, gor) != 1 {
		t.Error("growing goroutines passed")
	}
}

// TestABTimeLimitIsNotAFailure: `ab -t` against a healthy server ends
// with 0 failed requests and exit status 0.
func TestABTimeLimitIsNotAFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-k", "-t", "0.3", "-c", "4", srv.URL + "/"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "Failed requests:        0") || strings.Contains(out.String(), "Interrupted") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
}

// TestABRampAndDebug: --ramp-up runs -c virtual users started over the
// ramp, -n/-c requests each; --debug prints each request as JSON.
func TestABRampAndDebug(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-n", "6", "-c", "3", "--ramp-up", "200ms", "--debug", srv.URL + "/"}, &out, &errOut)
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if code != 0 || !strings.Contains(out.String(), "Complete requests:      6") || len(lines) != 6 || !strings.Contains(lines[5], `"slot":2`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
}

// TestABRateAndFollow: --rate sends -n requests on the schedule, -L
// follows redirects, and bad rate flags are refused before anything is
// sent.
func TestABRateAndFollow(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", 301)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-n", "40", "-c", "4", "--rate", "100", "-L", "3", srv.URL + "/old"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "Complete requests:      40") ||
		!strings.Contains(out.String(), "Arrivals:               40 planned, 40 started") || hits.Load() != 80 ||
		!strings.Contains(out.String(), "from each request's intended start") {
		t.Fatalf("exit %d, %d hits\nstdout:\n%s\nstderr:\n%s", code, hits.Load(), out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Time taken for tests:   0.39") && !strings.Contains(out.String(), "Time taken for tests:   0.4") {
		t.Errorf("40 arrivals at 100/s should take ~0.4s:\n%s", out.String())
	}
	for _, bad := range [][]string{{"--rate", "-5"}, {"--rate", "NaN"}, {"--rate-start", "3"}, {"--rate", "10", "--ramp-up", "1s"},
		{"--rate", "10", "--max-lag", "0s"}, {"-L", "-1"}, {"--goroutines", "--rate", "10"}, {"--goroutines", "--ramp-up", "1s"}} {
		hits.Store(0)
		errOut.Reset()
		code := run(context.Background(), append(append([]string{"ab", "-q"}, bad...), srv.URL+"/"), io.Discard, &errOut)
		if code == 0 || hits.Load() != 0 || !strings.Contains(errOut.String(), bad[len(bad)-2]) {
			t.Errorf("%v: exit %d, %d hits, stderr %q", bad, code, hits.Load(), errOut.String())
		}
	}
}

// TestABCACert: --cacert trusts an httptest TLS server's certificate;
// without it the request fails verification.
func TestABCACert(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"ab", "-q", "-n", "3", "--cacert", ca, srv.URL + "/"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "Complete requests:      3") || !strings.Contains(out.String(), "Failed requests:        0") {
		t.Fatalf("with --cacert: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	run(context.Background(), []string{"ab", "-q", "-n", "3", "-v", "2", srv.URL + "/"}, &out, &errOut)
	if !strings.Contains(out.String(), "Failed requests:        3") || !strings.Contains(out.String(), "unknown authority") {
		t.Errorf("without --cacert:\n%s", out.String())
	}
	if code := run(context.Background(), []string{"ab", "--cacert", filepath.Join(t.TempDir(), "none.pem"), srv.URL + "/"}, io.Discard, &errOut); code == 0 {
		t.Error("a missing --cacert file ran")
	}
}

// TestABHTTP2: --http2 sends h2 streams over --h2-conns connections.
func TestABHTTP2(t *testing.T) {
	var h2, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		}
		io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-n", "50", "-c", "10", "--http2", "--h2-conns", "2", "--insecure", srv.URL + "/"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "Complete requests:      50") || h2.Load() != 50 || conns.Load() != 2 {
		t.Fatalf("exit %d, %d over h2, %d connections\n%s%s", code, h2.Load(), conns.Load(), out.String(), errOut.String())
	}
}

// TestABTLSFlags: --tlsv1.x, --tls-max, --ciphers, --pinnedpubkey and
// --cert-status change what is offered and accepted; SSLKEYLOGFILE gets the secrets;
// bad values are refused before anything is sent.
func TestABTLSFlags(t *testing.T) {
	var seen atomic.Value
	start := func(conf *tls.Config) *httptest.Server {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(tls.VersionName(r.TLS.Version) + " " + tls.CipherSuiteName(r.TLS.CipherSuite))
		}))
		srv.TLS = conf
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	tls12 := start(&tls.Config{MaxVersion: tls.VersionTLS12})
	tls13 := start(&tls.Config{MinVersion: tls.VersionTLS13})
	sum := sha256.Sum256(tls12.Certificate().RawSubjectPublicKeyInfo)
	pin := "sha256//" + base64.StdEncoding.EncodeToString(sum[:])
	keyLog := filepath.Join(t.TempDir(), "keys.log")
	t.Setenv("SSLKEYLOGFILE", keyLog)
	cases := []struct {
		args []string
		url  string
		want string // in the output; with "Failed requests:        0" when no failure is wanted
		ok   bool
	}{
		{[]string{"--tlsv1.3"}, tls12.URL, "protocol version", false},
		{[]string{"--tls-max", "1.2"}, tls13.URL, "protocol version", false},
		{[]string{"--tls-max", "1.2", "--ciphers", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}, tls13.URL + "/", "protocol version", false},
		{[]string{"--ciphers", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}, tls12.URL, "TLS 1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true},
		{[]string{"--tlsv1.2", "--tls-max", "1.3"}, tls13.URL, "TLS 1.3", true},
		{[]string{"--pinnedpubkey", pin}, tls12.URL, "TLS 1.2", true},
		{[]string{"--pinnedpubkey", "sha256//" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, tls12.URL, "public key pin mismatch", false},
		{[]string{"--cert-status"}, tls12.URL, "stapled no OCSP response", false},
	}
	for _, tc := range cases {
		seen.Store("")
		var out, errOut bytes.Buffer
		args := append(append([]string{"ab", "-q", "-n", "2", "-v", "2", "--insecure"}, tc.args...), tc.url+"/")
		code := run(context.Background(), args, &out, &errOut)
		got := out.String() + seen.Load().(string)
		if (code == 0) != tc.ok || !strings.Contains(got, tc.want) || strings.Contains(out.String(), "Failed requests:        0") != tc.ok {
			t.Errorf("%v: exit %d, want %q\n%s%s", tc.args, code, tc.want, got, errOut.String())
		}
		if !strings.Contains(errOut.String(), "SSLKEYLOGFILE") {
			t.Errorf("%v: no warning that the secrets are written: %s", tc.args, errOut.String())
		}
	}
	if keys, _ := os.ReadFile(keyLog); !bytes.Contains(keys, []byte("CLIENT_RANDOM ")) || !bytes.Contains(keys, []byte("CLIENT_TRAFFIC_SECRET_0 ")) {
		t.Errorf("SSLKEYLOGFILE has no TLS 1.2 and 1.3 secrets:\n%s", keys)
	}
	for _, bad := range [][]string{{"--tls-max", "1.1"}, {"--ciphers", "NOPE"}, {"--tlsv1.3", "--tls-max", "1.2"}, {"--pinnedpubkey", "sha256//x"}} {
		var errOut bytes.Buffer
		if code := run(context.Background(), append(append([]string{"ab"}, bad...), tls12.URL+"/"), io.Discard, &errOut); code != 2 ||
			!strings.Contains(errOut.String(), bad[len(bad)-1]) || strings.Contains(errOut.String(), "secrets are written") {
			t.Errorf("%v: exit %d, %s", bad, code, errOut.String())
		}
	}
}

// TestABHTTPSProxy: -X https://… speaks TLS to the proxy, trusted
// through --proxy-cacert or not checked with --proxy-insecure.
func TestABHTTPSProxy(t *testing.T) {
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via the proxy to "+r.URL.String())
	}))
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0)
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	ca := filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags  []string
		failed string
	}{
		{[]string{"--proxy-cacert", ca}, "Failed requests:        0"},
		{[]string{"--proxy-insecure"}, "Failed requests:        0"},
		{nil, "tls handshake with the proxy"},
	} {
		var out, errOut bytes.Buffer
		args := append(append([]string{"ab", "-q", "-n", "2", "-v", "2", "-X", proxy.URL}, tc.flags...), "http://origin.test/page")
		run(context.Background(), args, &out, &errOut)
		if !strings.Contains(out.String(), tc.failed) || (tc.flags != nil && !strings.Contains(out.String(), "Complete requests:      2")) {
			t.Errorf("%v: want %q\n%s%s", tc.flags, tc.failed, out.String(), errOut.String())
		}
	}
}

// TestABCertP12: --cert FILE --cert-type P12 --pass PASSWORD presents the
// PKCS#12 file's certificate; a wrong password stops before sending.
func TestABCertP12(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "p12 client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	data, err := pkcs12.Modern.Encode(key, leaf, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "client.p12")
	os.WriteFile(file, data, 0o600)
	var seen atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 1 && r.TLS.PeerCertificates[0].Subject.CommonName == "p12 client" {
			seen.Add(1)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-n", "2", "--insecure", "--cert", file, "--cert-type", "p12", "--pass", "pw", srv.URL + "/"}, &out, &errOut)
	if code != 0 || seen.Load() != 2 {
		t.Errorf("exit %d, %d requests with the certificate\n%s%s", code, seen.Load(), out.String(), errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"ab", "-q", "-n", "2", "--insecure", "--cert", file, "--cert-type", "P12", "--pass", "nope", srv.URL + "/"}, io.Discard, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "ClientPKCS12") || strings.Contains(errOut.String(), "nope") || seen.Load() != 2 {
		t.Errorf("wrong password: exit %d, %s", code, errOut.String())
	}
}

// ab's summary says when a step never ran.
func TestABSummarySaysStepNeverRan(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	r, err := loadtest.New(loadtest.Runs(scenario.Run("ab", scenario.Get("/"), scenario.Get("/2")).Repeat(1_000_000)),
		loadtest.BaseURL(srv.URL), loadtest.KeepLevel(0), loadtest.TimeLimit(50*time.Millisecond)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	writeABSummary(&out, &abConfig{url: srv.URL}, r)
	if !strings.Contains(out.String(), `not a verdict: step 2 "GET /2" of run "ab" never ran`) {
		t.Errorf("summary:\n%s", out.String())
	}
}

// benchgate ab keeps ApacheBench's default: a new connection per request;
// -k keeps them alive.
func TestABKeepAliveOnlyWithK(t *testing.T) {
	for _, tc := range []struct {
		k     bool
		conns int64
	}{{false, 5}, {true, 1}} {
		var conns atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		args := []string{"ab", "-q", "-n5", "-c1", srv.URL + "/"}
		if tc.k {
			args = append(args[:1], append([]string{"-k"}, args[1:]...)...)
		}
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		srv.Close()
		if conns.Load() != tc.conns {
			t.Errorf("-k=%v: %d connections, want %d", tc.k, conns.Load(), tc.conns)
		}
	}
}

// TestABScriptFlags: the ApacheBench flags scripts carry (-r, -l, -V,
// -g, -d, -S) are taken, and -L alone does not eat the next flag.
func TestABScriptFlags(t *testing.T) {
	tests := []struct {
		args   []string
		follow int
		keep   bool
		reqs   int
	}{
		{[]string{"-L", "-k", "http://h/"}, 50, true, 1},
		{[]string{"-L", "http://h/"}, 50, false, 1},
		{[]string{"-L", "3", "-k", "http://h/"}, 3, true, 1},
		{[]string{"-L3", "http://h/"}, 3, false, 1},
		{[]string{"-kL", "4", "http://h/"}, 4, true, 1},
		{[]string{"-kL", "-n", "7", "http://h/"}, 50, true, 7},
		{[]string{"-L=2", "http://h/"}, 2, false, 1},
		{[]string{"--follow", "5", "http://h/"}, 5, false, 1},
		{[]string{"--follow", "-n2", "http://h/"}, 50, false, 2},
		{[]string{"--follow=6", "http://h/"}, 6, false, 1},
		{[]string{"-H", "-L", "http://h/"}, 0, false, 1}, // -L is -H's value (and refused as a header)
		{[]string{"-n", "9", "-L", "http://h/"}, 50, false, 9},
		{[]string{"-r", "-l", "-d", "-S", "-g", "g.tsv", "-L", "http://h/"}, 50, false, 1},
		{[]string{"-rldS", "http://h/"}, 0, false, 1},
		{[]string{"--", "-L"}, 0, false, 1},
	}
	for _, tt := range tests {
		c, err := parseABFlags(tt.args, io.Discard)
		if tt.args[0] == "-H" || tt.args[0] == "--" {
			if err == nil {
				t.Errorf("%q: no error", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if c.follow != tt.follow || c.keepAlive != tt.keep || c.requests != tt.reqs || c.url != "http://h/" {
			t.Errorf("%q: follow %d keep-alive %v requests %d url %q, want %d %v %d", tt.args, c.follow, c.keepAlive, c.requests, c.url, tt.follow, tt.keep, tt.reqs)
		}
	}
	c, err := parseABFlags([]string{"-r", "-l", "-d", "-S", "-g", "g.tsv", "http://h/"}, io.Discard)
	if err != nil || !c.recvErrOK || !c.anyLength || !c.noPercent || !c.noConfid || c.gnuplot != "g.tsv" {
		t.Errorf("flags %+v, %v", c, err)
	}
	for _, v := range []string{"-V", "--version"} {
		var out bytes.Buffer
		if code := run(context.Background(), []string{"ab", v}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "This is benchgate ab, Version ") {
			t.Errorf("%s: exit %d, %q", v, code, out.String())
		}
	}
}

// TestABGnuplotAndTables: -g writes ab's TSV (one line per complete
// request, ordered by total time), -d drops the percentage table, -S
// prints min/avg/max only, and varying body lengths are warned of
// unless -l.
func TestABGnuplotAndTables(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", int(n.Add(1)%3))) // lengths 1, 2, 0, 1, 2, 0, ...
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	g := filepath.Join(dir, "g.tsv")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"ab", "-q", "-n", "9", "-g", g, "-d", "-S", srv.URL + "/"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"Failed requests:        0\n", "body lengths vary from 0 to 2 bytes", "              min   avg   max\n", "Total:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	for _, not := range []string{"Percentage of the requests", "median", "WARNING: The median", "ERROR"} {
		if strings.Contains(out.String(), not) {
			t.Errorf("summary has %q with -d -S:\n%s", not, out.String())
		}
	}
	b, err := os.ReadFile(g)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 10 || lines[0] != "starttime\tseconds\tctime\tdtime\tttime\twait" {
		t.Fatalf("gnuplot file:\n%s", b)
	}
	prev := int64(-1)
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			t.Fatalf("line %q: %d fields", l, len(f))
		}
		if _, err := time.ParseInLocation("Mon Jan 02 15:04:05 2006", f[0], time.Local); err != nil {
			t.Errorf("start %q: %v", f[0], err)
		}
		var secs, ct, dt, tt, wt int64
		for i, p := range []*int64{&secs, &ct, &dt, &tt, &wt} {
			if _, err := fmt.Sscan(f[i+1], p); err != nil {
				t.Fatalf("line %q field %d: %v", l, i+1, err)
			}
		}
		if d := time.Since(time.Unix(secs, 0)); d < 0 || d > time.Hour || tt < prev || ct+dt > tt+1 {
			t.Errorf("line %q: want a recent start, ttime ordered and ctime+dtime≈ttime", l)
		}
		prev = tt
	}
	out.Reset()
	if code := run(context.Background(), []string{"ab", "-q", "-n", "6", "-l", srv.URL + "/"}, &out, io.Discard); code != 0 ||
		strings.Contains(out.String(), "body lengths vary") || !strings.Contains(out.String(), "Percentage of the requests") ||
		!strings.Contains(out.String(), "mean[+/-sd] median") {
		t.Errorf("-l: exit %d\n%s", code, out.String())
	}
}
