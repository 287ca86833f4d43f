package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// UpdateBaselinesEnv names the environment variable that makes baseline
// checks record the current report instead of comparing with the stored
// one (as golden files are updated): BENCHGATE_UPDATE_BASELINES=1 go test ./...
const UpdateBaselinesEnv = "BENCHGATE_UPDATE_BASELINES"

// UpdatingBaselines reports whether UpdateBaselinesEnv is set to a
// non-empty value other than "0" or "false".
func UpdatingBaselines() bool {
	v := os.Getenv(UpdateBaselinesEnv)
	return v != "" && v != "0" && v != "false"
}

// Baseline returns what a baseline keeps of r: counts, statuses, the
// histograms per step, phase and time window, the timeline; not the
// per-request records, headers, bodies or samples. Small enough to
// commit: a few kilobytes per step and minute.
func (r *Report) Baseline() *Report {
	b := *r
	b.Runs = make([]*RunReport, len(r.Runs))
	for i, run := range r.Runs {
		rc := *run
		rc.Requests, rc.Headers, rc.Bodies, rc.RequestTexts = nil, nil, nil, nil
		rc.Steps = make([]*StepReport, len(run.Steps))
		for k, s := range run.Steps {
			sc := *s
			sc.Samples = nil
			rc.Steps[k] = &sc
		}
		b.Runs[i] = &rc
	}
	return &b
}

// WriteBaseline stores r's baseline at path (JSON, fields in a stable
// order), creating the directory; the file is replaced atomically.
func WriteBaseline(path string, r *Report) error {
	var buf bytes.Buffer
	if err := r.Baseline().WriteJSON(&buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ErrNoBaseline is returned by ReadBaseline when the file does not exist.
var ErrNoBaseline = errors.New("no baseline")

// ReadBaseline reads a baseline written by WriteBaseline. A missing file
// is an error wrapping ErrNoBaseline that says how to create one.
func ReadBaseline(path string) (*Report, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: record one from this run with %s=1 go test ./... and commit it", ErrNoBaseline, path, UpdateBaselinesEnv)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return r, nil
}
