package engine

import (
	"fmt"

	"github.com/benchgate/benchgate/scenario"
)

// The engine calls user code (body funcs, extractors) on its own
// goroutines; a panic there becomes the request's failure reason instead
// of taking the whole process down.

func buildBody(b scenario.Body, prev *scenario.Response, vars scenario.Vars) (body []byte, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			body, ok, err = nil, false, fmt.Errorf("body builder panicked: %v", r)
		}
	}()
	return b.Build(prev, vars)
}

func extract(x scenario.Extractor, r *scenario.Response) (v string, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = "", fmt.Errorf("extractor panicked: %v", p)
		}
	}()
	return x.Extract(r)
}

func expect(e scenario.Expectation, r *scenario.Response, vars scenario.Vars) (reason string) {
	defer func() {
		if p := recover(); p != nil {
			reason = fmt.Sprintf("%s panicked: %v", e, p)
		}
	}()
	return e.Check(r, vars)
}
