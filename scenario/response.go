package scenario

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/PuerkitoBio/goquery"
)

// Response is what a step's extractors, body funcs and forms see of the
// previous response in the same iteration. It is available whatever the
// run's keep level. When the request got no response, Status is 599 and
// Err says why.
type Response struct {
	// Status is the HTTP status code, or 599 when no response came.
	Status int
	// Proto is the protocol of the status line, such as "HTTP/1.1".
	Proto string
	// Header holds the response headers.
	Header http.Header
	// Body is the response body, cut at the run's buffer size.
	Body []byte
	// Truncated is true when Body was cut at the buffer size.
	Truncated bool
	// URL is the URL that was requested.
	URL *url.URL
	// Err is the reason no complete response came, or nil.
	Err error

	docOnce sync.Once
	parsed  atomic.Bool
	doc     *goquery.Document
	docErr  error
}

// formDocument returns a DOM that holds the form sel selects as the
// whole page's would: only the form's own bytes parsed when they are
// enough (see formFragment), else the page's Document.
func (r *Response) formDocument(sel *simpleSelector) (*goquery.Document, error) {
	if r != nil && sel != nil && !r.parsed.Load() {
		if frag, ok := formFragment(r.Body, sel); ok {
			return goquery.NewDocumentFromReader(bytes.NewReader(frag))
		}
	}
	return r.Document()
}

// firstAttr is the first element matching sel and its attribute attr,
// from the page's tokens when they decide it and its DOM was not built
// yet (see firstAttr); ok false leaves it to the DOM.
func (r *Response) firstAttr(sel *simpleSelector, attr string) (value string, matched, found, ok bool) {
	if r == nil || r.parsed.Load() {
		return "", false, false, false
	}
	return firstAttr(r.Body, sel, attr)
}

// Document parses Body as HTML once and returns the goquery document.
func (r *Response) Document() (*goquery.Document, error) {
	if r == nil {
		return nil, errNoResponse
	}
	r.docOnce.Do(func() {
		r.doc, r.docErr = goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
		if r.docErr == nil && r.URL != nil {
			r.doc.Url = r.URL
		}
		r.parsed.Store(true)
	})
	return r.doc, r.docErr
}

// Text returns the status line, headers and body as one string, the way a
// raw HTTP response reads.
func (r *Response) Text() string {
	if r == nil {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %s", r.Proto, r.Status, http.StatusText(r.Status))
	b.WriteString("\r\n")
	_ = r.Header.Write(&b)
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.String()
}
