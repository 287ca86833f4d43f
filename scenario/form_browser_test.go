package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// browserForm is what the corpus page's script reports for one form.
type browserForm struct {
	ID      string            `json:"id"`
	Blocked bool              `json:"blocked"`
	Error   string            `json:"error"`
	Entries []json.RawMessage `json:"entries"`
	Method  string            `json:"method"`
	Action  string            `json:"action"`
	Enctype string            `json:"enctype"`
}

// chromium finds a Chromium binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestFormsAgainstChromium loads a corpus of forms in headless Chromium,
// which reports new FormData(form, submitter) for each, with the method,
// action and encoding the submitter chooses; benchgate must build the
// same entry list, field by field, and choose the same request.
func TestFormsAgainstChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed here (Debian: apt-get install chromium); the browser differential needs it")
	}
	page, err := os.ReadFile("testdata/forms.html")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	pageURL := srv.URL + "/forms/corpus.html"

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+t.TempDir(), "--dump-dom", pageURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	for attempt := 1; err != nil && attempt < 3; attempt++ { // headless Chromium now and then crashes at start
		cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
		stderr.Reset()
		cmd.Stderr = &stderr
		dom, err = cmd.Output()
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`).FindSubmatch(dom)
	if m == nil || len(m[1]) == 0 {
		t.Fatalf("chromium's DOM has no results:\n%.2000s\n%s", dom, stderr.String())
	}
	var forms []browserForm
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &forms); err != nil {
		t.Fatalf("results: %v", err)
	}
	if len(forms) < 30 {
		t.Fatalf("the corpus has %d forms; want at least 30", len(forms))
	}

	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pageURL)
	resp := &Response{Status: 200, URL: u, Body: page}
	for _, bf := range forms {
		t.Run(bf.ID, func(t *testing.T) {
			if bf.Error != "" {
				t.Fatalf("the browser could not build the form: %s", bf.Error)
			}
			sel := doc.Find("#" + bf.ID)
			f := FormFrom("#" + bf.ID)
			if click, ok := sel.Attr("data-click"); ok {
				f.Click(click)
			}
			if attach, ok := sel.Attr("data-attach"); ok {
				parts := strings.SplitN(attach, "|", 3)
				f.Attach(parts[0], parts[1], []byte(parts[2]))
			}
			ff, err := f.Fill(resp, nil)
			if bf.Blocked {
				if err == nil || !strings.Contains(err.Error(), "disabled") {
					t.Fatalf("the browser does not submit this form on Enter; benchgate: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, raw := range bf.Entries {
				var pair [2]json.RawMessage
				if err := json.Unmarshal(raw, &pair); err != nil {
					t.Fatal(err)
				}
				var name, value string
				json.Unmarshal(pair[0], &name)
				if err := json.Unmarshal(pair[1], &value); err != nil {
					var file struct{ File string }
					json.Unmarshal(pair[1], &file)
					value = "file:" + file.File
				}
				want = append(want, fmt.Sprintf("%q=%q", name, value))
			}
			if extra, ok := sel.Attr("data-click-only"); ok {
				// image coordinates, at the button's place in the list
				fields := strings.Fields(extra)
				at, err := strconv.Atoi(fields[0])
				if err != nil || at > len(want) {
					t.Fatalf("data-click-only %q", extra)
				}
				var ins []string
				for _, kv := range fields[1:] {
					k, v, _ := strings.Cut(kv, "=")
					ins = append(ins, fmt.Sprintf("%q=%q", k, v))
				}
				want = append(want[:at], append(ins, want[at:]...)...)
			}
			var got []string
			for _, e := range ff.Entries {
				v := e.Value
				if e.File != nil {
					v = "file:" + e.File.Filename
				}
				got = append(got, fmt.Sprintf("%q=%q", e.Name, v))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("entries\n  benchgate %s\n  chromium  %s", strings.Join(got, " "), strings.Join(want, " "))
			}
			if strings.ToLower(ff.Method) != bf.Method || ff.Enctype != bf.Enctype {
				t.Errorf("method %s enctype %s; chromium %s %s", ff.Method, ff.Enctype, bf.Method, bf.Enctype)
			}
			if ff.Action.String() != bf.Action {
				t.Errorf("action %s; chromium %s", ff.Action, bf.Action)
			}
		})
	}
}
