package loadtest_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func encode(t *testing.T, coding string, body []byte) []byte {
	var b bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "rawdeflate":
		w, _ = flate.NewWriter(&b, 5)
	case "br":
		w = brotli.NewWriter(&b)
	case "zstd":
		w, _ = zstd.NewWriter(&b)
	}
	w.Write(body)
	w.Close()
	return b.Bytes()
}

// TestAcceptEncoding: compressed bodies are asked for and decoded for
// extractors and expectations, with wire and decoded sizes apart; a
// bomb is cut at the buffer; a body that does not decode fails the step.
func TestAcceptEncoding(t *testing.T) {
	page := []byte(`<html><body><h1 id="t">hello world</h1><a class="item" data-id="42">x</a>` + strings.Repeat("<p>filler text</p>", 200) + `</body></html>`)
	bomb := make([]byte, 40<<20)
	var gotAE []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAE = append(gotAE, r.Header.Get("Accept-Encoding"))
		coding := strings.TrimPrefix(r.URL.Path, "/")
		switch coding {
		case "plain":
			w.Write(page)
		case "bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(encode(t, "gzip", bomb))
		case "corrupt":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte("\x1f\x8b\x08\x00not gzip at all"))
		case "compress":
			w.Header().Set("Content-Encoding", "compress")
			w.Write(page)
		case "twice":
			w.Header().Set("Content-Encoding", "gzip, br")
			w.Write(encode(t, "br", encode(t, "gzip", page)))
		default:
			header := coding
			if coding == "rawdeflate" {
				header = "deflate"
			}
			w.Header().Set("Content-Encoding", header)
			w.Write(encode(t, coding, page)) // no Content-Length for big ones: chunked
		}
	}))
	t.Cleanup(srv.Close)
	for _, coding := range []string{"gzip", "deflate", "rawdeflate", "br", "zstd", "twice", "plain"} {
		gotAE = nil
		run := scenario.Run("r", scenario.Get("/"+coding).ExpectCSS("#t", "hello world").Extract("id", scenario.CSS("a.item").Attr("data-id")),
			scenario.Get("/plain?id={{id}}"))
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.AcceptEncoding(), loadtest.KeepAlive(true))
		s := report.Runs[0].Steps[0]
		if s.Good != 1 || report.ResponsesFailed != 0 {
			t.Errorf("%s: good %d, failures %v %v", coding, s.Good, s.Failures, report.Runs[0].Steps[1].Failures)
			continue
		}
		if gotAE[0] != "gzip, deflate, br, zstd" {
			t.Errorf("%s: Accept-Encoding %q", coding, gotAE[0])
		}
		if coding != "plain" && (s.DecodedBytes != int64(len(page)) || s.BodyBytes >= s.DecodedBytes) {
			t.Errorf("%s: %d bytes on the wire, %d decoded (page %d)", coding, s.BodyBytes, s.DecodedBytes, len(page))
		}
	}
	// a bomb is cut at the buffer, counted, and its start still read
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/bomb").ExpectBodyContains("\x00\x00\x00"))), loadtest.BaseURL(srv.URL),
		loadtest.AcceptEncoding("gzip"), loadtest.BufferBytes(64<<10))
	s := report.Runs[0].Steps[0]
	if s.Good != 1 || s.Truncated != 1 || s.DecodedBytes != 64<<10 || s.BodyBytes > 1<<20 {
		t.Errorf("bomb: good %d truncated %d decoded %d wire %d", s.Good, s.Truncated, s.DecodedBytes, s.BodyBytes)
	}
	// an encoded body cut at the buffer is decoded as far as it goes, not failed (zstd says so in its own words)
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/zstd")).KeepLevel(3).BufferBytes(20)), loadtest.BaseURL(srv.URL),
		loadtest.AcceptEncoding())
	if s := report.Runs[0].Steps[0]; s.Good != 1 || s.Truncated != 1 {
		t.Errorf("cut zstd: good %d truncated %d %v", s.Good, s.Truncated, s.Failures)
	}
	// bodies that do not decode fail the steps that read them
	for path, want := range map[string]string{"corrupt": "Content-Encoding gzip", "compress": `Content-Encoding "compress" is not one benchgate decodes`} {
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"+path).ExpectBodyContains("hello"))), loadtest.BaseURL(srv.URL),
			loadtest.AcceptEncoding())
		s := report.Runs[0].Steps[0]
		reason := ""
		for r := range s.Failures {
			reason = r
		}
		if s.Failed != 1 || !strings.Contains(reason, want) {
			t.Errorf("%s: failed %d %q, want %q", path, s.Failed, reason, want)
		}
	}
	// nothing asked without the option; a step's own field wins
	gotAE = nil
	execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/plain"), scenario.Get("/plain").Header("Accept-Encoding", "br"))),
		loadtest.BaseURL(srv.URL))
	execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/plain").Header("Accept-Encoding", "br"))), loadtest.BaseURL(srv.URL), loadtest.AcceptEncoding())
	if strings.Join(gotAE, "|") != "|br|br" {
		t.Errorf("Accept-Encoding sent: %q", gotAE)
	}
	if _, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get("/plain"))), loadtest.BaseURL(srv.URL),
		loadtest.AcceptEncoding("lzma")).Execute(t.Context()); err == nil || !strings.Contains(err.Error(), `AcceptEncoding`) {
		t.Errorf("unknown coding: %v", err)
	}
}
