package loadtest_test

import (
	"bufio"
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
	"errors"
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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newTestCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "benchgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: t.TempDir()}
	ca.write(t, "ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(t *testing.T, name, kind string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue makes a certificate for names (DNS names or IPs), for a server
// or a client; it returns the tls.Certificate and the PEM files.
func (ca *testCA) issue(t *testing.T, name string, client bool, names ...string) (tls.Certificate, string, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile := ca.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := ca.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

// TestTLSTrust: a server signed by the user's CA is trusted through
// CAFile, verification stays on by default, a name the certificate does
// not hold is refused, mutual TLS is accepted with the client
// certificate and refused without it, and resumption is measured.
func TestTLSTrust(t *testing.T) {
	ca := newTestCA(t)
	serverCert, _, _ := ca.issue(t, "server", false, "shop.test", "127.0.0.1")
	clientPair, clientCertFile, clientKeyFile := ca.issue(t, "client", true)
	clientLeaf, _ := x509.ParseCertificate(clientPair.Certificate[0])
	p12, err := pkcs12.Modern.Encode(clientPair.PrivateKey, clientLeaf, []*x509.Certificate{ca.cert}, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	p12File := filepath.Join(ca.dir, "client.p12")
	encryptedKey := filepath.Join(ca.dir, "encrypted-key.pem")
	os.WriteFile(p12File, p12, 0o600)
	os.WriteFile(encryptedKey, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	start := func(mutual bool) *httptest.Server {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.TLS.PeerCertificates) > 0 {
				w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
			}
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
		if mutual {
			srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, pool
		}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	plain, mutual := start(false), start(true)
	_, mport, _ := net.SplitHostPort(mutual.Listener.Addr().String())
	_, pport, _ := net.SplitHostPort(plain.Listener.Addr().String())
	caFile := filepath.Join(ca.dir, "ca.pem")
	run := func(url string, opts ...loadtest.Option) *loadtest.StepReport {
		t.Helper()
		step := scenario.Get(url)
		report := execute(t, append([]loadtest.Option{loadtest.Runs(scenario.Run("r", step).Repeat(4)), loadtest.KeepAlive(false), loadtest.Resolve("shop.test", "127.0.0.1"),
			loadtest.Resolve("other.test", "127.0.0.1")}, opts...)...)
		return report.Runs[0].Steps[0]
	}
	reason := func(s *loadtest.StepReport) string {
		for r := range s.Failures {
			return r
		}
		return ""
	}
	cases := []struct {
		name   string
		url    string
		opts   []loadtest.Option
		failed string // a piece of the reason; "" for good
	}{
		{"unknown CA, verification on by default", "https://shop.test:" + pport + "/", nil, "certificate signed by unknown authority"},
		{"trusted through CAFile", "https://shop.test:" + pport + "/", []loadtest.Option{loadtest.CAFile(caFile)}, ""},
		{"trusted through TLSConfig", "https://shop.test:" + pport + "/", []loadtest.Option{loadtest.TLSConfig(&tls.Config{RootCAs: pool})}, ""},
		{"an IP in the certificate", "https://127.0.0.1:" + pport + "/", []loadtest.Option{loadtest.CAFile(caFile)}, ""},
		{"a name not in the certificate", "https://other.test:" + pport + "/", []loadtest.Option{loadtest.CAFile(caFile)}, "not other.test"},
		{"mutual TLS with the client certificate", "https://shop.test:" + mport + "/",
			[]loadtest.Option{loadtest.CAFile(caFile), loadtest.ClientCert(clientCertFile, clientKeyFile)}, ""},
		{"mutual TLS without one", "https://shop.test:" + mport + "/", []loadtest.Option{loadtest.CAFile(caFile)}, "certificate"},
		{"mutual TLS from a PKCS#12 file", "https://shop.test:" + mport + "/",
			[]loadtest.Option{loadtest.CAFile(caFile), loadtest.ClientPKCS12(p12File, "s3cret")}, ""},
	}
	for _, tc := range cases {
		s := run(tc.url, tc.opts...)
		if got := reason(s); (tc.failed == "") != (s.Failed == 0) || !strings.Contains(got, tc.failed) {
			t.Errorf("%s: good %d failed %d %q, want %q", tc.name, s.Good, s.Failed, got, tc.failed)
		}
	}
	// resumption: four connections (no keep-alive), the last three resume
	s := run("https://shop.test:"+pport+"/", loadtest.CAFile(caFile))
	if s.TLSHandshake == nil || s.TLSHandshake.Count() != 4 || s.TLSResumed != 3 {
		t.Errorf("handshakes %v, resumed %d: want 4 and 3", s.TLSHandshake, s.TLSResumed)
	}
	if s = run("https://shop.test:"+pport+"/", loadtest.CAFile(caFile), loadtest.TLSResumption(false)); s.TLSResumed != 0 || s.Good != 4 {
		t.Errorf("resumption off: resumed %d, good %d", s.TLSResumed, s.Good)
	}
	// bad files are validation errors: nothing is sent
	for opt, want := range map[*loadtest.Option]string{
		ptr(loadtest.CAFile(filepath.Join(ca.dir, "missing.pem"))): "CAFile",
		ptr(loadtest.CAFile(clientKeyFile)):                        "no PEM certificate",
		ptr(loadtest.ClientCert(clientCertFile, caFile)):           "ClientCert",
		ptr(loadtest.ClientCert(clientCertFile, encryptedKey)):     "the key is encrypted",
		ptr(loadtest.ClientPKCS12(p12File, "wrong")):               "ClientPKCS12",
	} {
		_, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get("https://shop.test:"+pport+"/"))), *opt).Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "invalid plan") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "wrong") {
			t.Errorf("bad TLS file: %v, want %q (and no password)", err, want)
		}
	}
}

// TestTLSThroughProxy: HTTPS through an HTTP proxy's CONNECT tunnel
// keeps the TLS options: the user's CA, a client certificate, the
// server name checked end to end.
func TestTLSThroughProxy(t *testing.T) {
	ca := newTestCA(t)
	serverCert, _, _ := ca.issue(t, "server", false, "127.0.0.1")
	_, certFile, keyFile := ca.issue(t, "client", true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var tunnels atomic.Int64
	proxy := connectProxy(t, nil, &tunnels)
	run := scenario.Run("r", scenario.Get(srv.URL+"/").ExpectBodyContains("hello client")).Repeat(3)
	report := execute(t, loadtest.Runs(run), loadtest.Proxy(proxy), loadtest.KeepAlive(true),
		loadtest.CAFile(filepath.Join(ca.dir, "ca.pem")), loadtest.ClientCert(certFile, keyFile))
	if s := report.Runs[0].Steps[0]; s.Good != 3 || tunnels.Load() != 1 {
		t.Errorf("good %d (%v), tunnels %d (want 3 and 1: keep-alive through the tunnel)", s.Good, s.Failures, tunnels.Load())
	}
	// HTTP/2 through the tunnel, h2 agreed by ALPN with the origin
	h2srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "over "+r.Proto) }))
	h2srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	h2srv.EnableHTTP2 = true
	h2srv.StartTLS()
	t.Cleanup(h2srv.Close)
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(h2srv.URL+"/").ExpectBodyContains("over HTTP/2.0")).Repeat(3)),
		loadtest.Proxy(proxy), loadtest.HTTP2(1), loadtest.Concurrency(3), loadtest.CAFile(filepath.Join(ca.dir, "ca.pem")))
	if s := report.Runs[0].Steps[0]; s.Good != 3 || tunnels.Load() != 2 {
		t.Errorf("h2 through the proxy: good %d (%v), tunnels %d (want 3 and one more)", s.Good, s.Failures, tunnels.Load())
	}
	// without the CA the tunnel opens and the server's certificate is refused
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/"))), loadtest.Proxy(proxy))
	if s := report.Runs[0].Steps[0]; s.Failed != 1 {
		t.Errorf("untrusted through the proxy: good %d failed %d", s.Good, s.Failed)
	}
}

// connectProxy starts an HTTP proxy (over TLS with cert, when given)
// that opens CONNECT tunnels, counting them, and answers a request in
// absolute form itself with "proxied" and its request line.
func connectProxy(t *testing.T, cert *tls.Certificate, tunnels *atomic.Int64) string {
	url := rawServer(t, func(c net.Conn) {
		if cert != nil {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		for {
			h, err := br.ReadString('\n')
			if err != nil || h == "\r\n" {
				break
			}
		}
		if !strings.HasPrefix(line, "CONNECT ") {
			body := "proxied " + strings.TrimSpace(line)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			return
		}
		up, err := net.Dial("tcp", strings.Fields(line)[1])
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		tunnels.Add(1)
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, br)
		io.Copy(c, up)
	})
	if cert != nil {
		url = strings.Replace(url, "http://", "https://", 1)
	}
	return url
}

// TestHTTPSProxy: an https:// proxy is spoken to over TLS, its
// certificate verified (against ProxyCAFile, apart from the origin's
// trust) or not (ProxyInsecureSkipVerify); https goes through CONNECT
// inside that TLS, http in absolute form.
func TestHTTPSProxy(t *testing.T) {
	ca := newTestCA(t)
	proxyCert, _, _ := ca.issue(t, "proxy", false, "127.0.0.1")
	serverCert, _, _ := ca.issue(t, "server", false, "127.0.0.1")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "origin over "+r.Proto) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var tunnels atomic.Int64
	proxy := connectProxy(t, &proxyCert, &tunnels)
	caFile := filepath.Join(ca.dir, "ca.pem")
	cases := []struct {
		name, url, want, failed string
		opts                    []loadtest.Option
	}{
		{"https origin, proxy trusted", srv.URL + "/", "origin over HTTP/1.1", "", []loadtest.Option{loadtest.ProxyCAFile(caFile), loadtest.CAFile(caFile)}},
		{"h2 origin through it", srv.URL + "/", "origin over HTTP/2.0", "", []loadtest.Option{loadtest.ProxyCAFile(caFile), loadtest.CAFile(caFile), loadtest.HTTP2(1)}},
		{"http origin, absolute form", "http://origin.test/page?q=1", "proxied GET http://origin.test/page?q=1 HTTP/1.1", "", []loadtest.Option{loadtest.ProxyCAFile(caFile)}},
		{"proxy not verified on request", "http://origin.test/", "proxied GET", "", []loadtest.Option{loadtest.ProxyInsecureSkipVerify()}},
		{"proxy untrusted by default", "http://origin.test/", "", "tls handshake with the proxy 127.0.0.1: tls: failed to verify certificate", nil},
		{"the origin's trust is its own", srv.URL + "/", "", "tls handshake with 127.0.0.1: tls: failed to verify certificate", []loadtest.Option{loadtest.ProxyCAFile(caFile)}},
	}
	for _, tc := range cases {
		step := scenario.Get(tc.url)
		if tc.want != "" {
			step.ExpectBodyContains(tc.want)
		}
		report := execute(t, append([]loadtest.Option{loadtest.Runs(scenario.Run("r", step).Repeat(2)), loadtest.Proxy(proxy)}, tc.opts...)...)
		s := report.Runs[0].Steps[0]
		if got := stepFailure(s); (tc.failed == "" && s.Good != 2) || (tc.failed != "" && (s.Failed != 2 || !strings.Contains(got, tc.failed))) {
			t.Errorf("%s: good %d failed %d %q, want %q", tc.name, s.Good, s.Failed, got, tc.failed)
		}
	}
	// the key log covers the proxy's handshakes, with or without a proxy
	// option (the untrusted proxy's secrets are logged before its
	// certificate is refused)
	for _, opts := range [][]loadtest.Option{{loadtest.ProxyCAFile(caFile)}, nil} {
		var keys bytes.Buffer
		execute(t, append([]loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("http://origin.test/"))), loadtest.Proxy(proxy),
			loadtest.TLSKeyLog(&keys)}, opts...)...)
		if !strings.Contains(keys.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
			t.Errorf("proxy options %d: the key log has no proxy handshake: %q", len(opts), keys.String())
		}
	}
	// a missing file, and a proxy TLS option without an https:// proxy
	for proxyURL, opt := range map[string]loadtest.Option{
		proxy: loadtest.ProxyCAFile(filepath.Join(ca.dir, "missing.pem")),
		strings.Replace(proxy, "https://", "http://", 1): loadtest.ProxyInsecureSkipVerify(),
	} {
		_, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/"))), loadtest.Proxy(proxyURL), opt).Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "invalid plan") || !strings.Contains(err.Error(), "Proxy") {
			t.Errorf("proxy %s: %v", proxyURL, err)
		}
	}
}

// TestTLSPinsAndKeyLog: a pinned public key admits only that server,
// with verification and without it, on resumed connections too; a key
// log gets every connection's secrets; bad pins are validation errors.
func TestTLSPinsAndKeyLog(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverCertFile, serverKeyFile := ca.issue(t, "server", false, "127.0.0.1")
	other, _, _ := ca.issue(t, "other", false, "127.0.0.1")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pin := func(c tls.Certificate) string {
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
		return "sha256//" + base64.StdEncoding.EncodeToString(sum[:])
	}
	right, wrong := pin(serverCert), pin(other)
	caFile := filepath.Join(ca.dir, "ca.pem")
	cases := []struct {
		name   string
		opts   []loadtest.Option
		failed string
	}{
		{"the right pin", []loadtest.Option{loadtest.CAFile(caFile), loadtest.PinnedPublicKey(right)}, ""},
		{"a wrong pin", []loadtest.Option{loadtest.CAFile(caFile), loadtest.PinnedPublicKey(wrong)}, "public key pin mismatch: the server's key is " + right},
		{"one of two pins", []loadtest.Option{loadtest.CAFile(caFile), loadtest.PinnedPublicKey(wrong + ";" + right)}, ""},
		{"the pin from a certificate file", []loadtest.Option{loadtest.CAFile(caFile), loadtest.PinnedPublicKey(serverCertFile)}, ""},
		{"the right pin, verification off", []loadtest.Option{loadtest.InsecureSkipVerify(), loadtest.PinnedPublicKey(right)}, ""},
		{"a wrong pin, verification off", []loadtest.Option{loadtest.InsecureSkipVerify(), loadtest.PinnedPublicKey(wrong)}, "public key pin mismatch"},
		{"the right pin, unknown CA", []loadtest.Option{loadtest.PinnedPublicKey(right)}, "certificate signed by unknown authority"},
		{"the right pin, the user's own check refusing", []loadtest.Option{loadtest.CAFile(caFile), loadtest.PinnedPublicKey(right), loadtest.OCSPStaple(false),
			loadtest.TLSConfig(&tls.Config{VerifyConnection: func(tls.ConnectionState) error { return errors.New("the user's check says no") }})},
			"the user's check says no"},
	}
	for _, tc := range cases {
		report := execute(t, append([]loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(3)), loadtest.KeepAlive(false)}, tc.opts...)...)
		s := report.Runs[0].Steps[0]
		got := stepFailure(s)
		if (tc.failed == "" && (s.Good != 3 || s.TLSResumed != 2)) || (tc.failed != "" && s.Failed != 3) || !strings.Contains(got, tc.failed) {
			t.Errorf("%s: good %d (resumed %d) failed %d %q, want %q", tc.name, s.Good, s.TLSResumed, s.Failed, got, tc.failed)
		}
	}
	var keys bytes.Buffer
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(3)), loadtest.CAFile(caFile), loadtest.TLSKeyLog(&keys), loadtest.KeepAlive(false))
	if n := strings.Count(keys.String(), "CLIENT_TRAFFIC_SECRET_0 "); report.GoodResponses != 3 || n != 3 {
		t.Errorf("key log: %d good, %d connections' secrets", report.GoodResponses, n)
	}
	for _, bad := range []string{"sha256//short", "sha1//" + right[8:], filepath.Join(ca.dir, "missing.pem"), serverKeyFile} {
		_, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/"))), loadtest.PinnedPublicKey(bad)).Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "PinnedPublicKey") {
			t.Errorf("pin %q: %v", bad, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestOCSPStaple: a stapled OCSP response is checked against the
// server's certificate and its issuer, on resumed connections too;
// revoked, unknown, out of date or foreign responses fail the request,
// and so does none when one is required.
func TestOCSPStaple(t *testing.T) {
	ca := newTestCA(t)
	pair, _, _ := ca.issue(t, "server", false, "127.0.0.1")
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	now := time.Now()
	staple := func(status int, serial *big.Int, this, next time.Time) []byte {
		resp, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: status, SerialNumber: serial,
			ThisUpdate: this, NextUpdate: next, RevokedAt: now.Add(-time.Minute), RevocationReason: ocsp.KeyCompromise}, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	serve := func(ocspResp []byte) string {
		cert := pair
		cert.OCSPStaple = ocspResp
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL + "/"
	}
	good := staple(ocsp.Good, leaf.SerialNumber, now.Add(-time.Hour), now.Add(time.Hour))
	cases := []struct {
		name     string
		staple   []byte
		required bool
		failed   string
	}{
		{"good, required", good, true, ""},
		{"good, not required", good, false, ""},
		{"none, not required", nil, false, ""},
		{"none, required", nil, true, "stapled no OCSP response"},
		{"revoked", staple(ocsp.Revoked, leaf.SerialNumber, now.Add(-time.Hour), now.Add(time.Hour)), false, "certificate is revoked"},
		{"unknown", staple(ocsp.Unknown, leaf.SerialNumber, now.Add(-time.Hour), now.Add(time.Hour)), false, "status unknown"},
		{"out of date", staple(ocsp.Good, leaf.SerialNumber, now.Add(-3*time.Hour), now.Add(-2*time.Hour)), true, "out of date"},
		{"another certificate's", staple(ocsp.Good, big.NewInt(42), now.Add(-time.Hour), now.Add(time.Hour)), true, "invalid"},
		{"not OCSP", []byte("garbage"), true, "invalid"},
	}
	caFile := filepath.Join(ca.dir, "ca.pem")
	for _, tc := range cases {
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(serve(tc.staple))).Repeat(3)), loadtest.CAFile(caFile), loadtest.OCSPStaple(tc.required), loadtest.KeepAlive(false))
		s := report.Runs[0].Steps[0]
		got := stepFailure(s)
		if (tc.failed == "" && (s.Good != 3 || s.TLSResumed != 2)) || (tc.failed != "" && s.Failed != 3) || !strings.Contains(got, tc.failed) {
			t.Errorf("%s: good %d (resumed %d) failed %d %q, want %q", tc.name, s.Good, s.TLSResumed, s.Failed, got, tc.failed)
		}
	}
}
