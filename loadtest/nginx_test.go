package loadtest_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestHTTP2AgainstNginx: nginx with http2 over TLS, ending each
// connection after 100 requests (GOAWAY, then a lingering close): every
// request of a run with streams in flight on two connections is
// answered, byte for byte, over h2. Skipped where nginx is not
// installed (.ci/run installs it).
func TestHTTP2AgainstNginx(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	ca := newTestCA(t)
	_, certFile, keyFile := ca.issue(t, "nginx", false, "127.0.0.1")
	dir := t.TempDir()
	body := strings.Repeat("0123456789", 60)
	os.WriteFile(filepath.Join(dir, "body.txt"), []byte(body), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`worker_processes 1; daemon off; master_process off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fcgi;
  uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi; keepalive_requests 100;
  server { listen %[2]s ssl http2; ssl_certificate %[3]s; ssl_certificate_key %[4]s; root %[1]s; } }
`, dir, addr, certFile, keyFile)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Skipf("nginx does not start: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			break
		}
		if i == 50 {
			t.Skipf("nginx does not answer: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	run := scenario.Run("r", scenario.Get("https://"+addr+"/body.txt").ExpectBodyMatches("^"+body+"$")).Repeat(3000)
	report := execute(t, loadtest.Runs(run), loadtest.HTTP2(2), loadtest.Concurrency(32), loadtest.CAFile(filepath.Join(ca.dir, "ca.pem")))
	s := report.Runs[0].Steps[0]
	if s.Good != 3000 || s.TLSHandshake == nil || s.TLSHandshake.Count() < 30 {
		t.Errorf("good %d failed %d (%q), %v TLS handshakes (want ≥ 30: 100 requests a connection)", s.Good, s.Failed, stepFailure(s), s.TLSHandshake)
	}
}
