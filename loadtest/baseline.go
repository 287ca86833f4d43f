package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// UpdateBaselinesEnv names the environment variable that makes baseline
// checks record the current report instead of comparing with the stored
// one (as golden files are updated): BENCHGATE_UPDATE_BASELINES=1 go
// test ./... adds this execution to the baseline file (creating it);
// BENCHGATE_UPDATE_BASELINES=new starts the file over with it (after an
// intended change of speed).
const UpdateBaselinesEnv = "BENCHGATE_UPDATE_BASELINES"

// MinBaselineExecutions is how many executions a baseline should hold
// (recorded at different moments): fewer cannot bound a change at the
// default α, so they give no "no regression" verdict.
const MinBaselineExecutions = 5

// baselineVersion is the version of the multi-execution baseline file.
const baselineVersion = 2

// UpdatingBaselines reports whether UpdateBaselinesEnv is set to a
// non-empty value other than "0" or "false".
func UpdatingBaselines() bool {
	v := os.Getenv(UpdateBaselinesEnv)
	return v != "" && v != "0" && v != "false"
}

// RestartingBaselines reports whether UpdateBaselinesEnv is "new": the
// baseline file is started over rather than added to.
func RestartingBaselines() bool { return os.Getenv(UpdateBaselinesEnv) == "new" }

// Baseline is what a stored comparison compares with: several
// executions of one plan, recorded at different moments (the variance
// that matters lies between executions), each with the machine it ran
// on.
type Baseline struct {
	// Executions are the recorded executions, oldest first, each as
	// Report.Baseline keeps it.
	Executions []*Report
	// Machines[i] is the machine of Executions[i] (nil when unknown:
	// a file of the single-report form).
	Machines []*Machine
}

// baselineFile is a Baseline's JSON form.
type baselineFile struct {
	Version    int                 `json:"baseline_version"`
	Executions []baselineExecution `json:"executions"`
}

type baselineExecution struct {
	Machine *Machine        `json:"machine,omitempty"`
	Report  json.RawMessage `json:"report"`
}

// Baseline returns what a baseline keeps of r: counts, statuses, the
// histograms per step, phase and time window, the timeline; not the
// per-request records, headers, bodies or samples. Small enough to
// commit: a few kilobytes per step and minute.
func (r *Report) Baseline() *Report {
	b := *r
	b.assertions = nil
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

// Add appends an execution recorded on machine m (nil: unknown) after
// checking that it has the runs and steps of the executions already
// held.
//
// A report no verdict may come from is refused, saying why: one that
// carries an error (Execute's, or shards missing from its merge) or one
// shard's part of a plan run as several; the comparison would judge
// less than the plan.
func (b *Baseline) Add(r *Report, m *Machine) error {
	if r == nil {
		return errors.New("baseline: a nil report")
	}
	if why, _ := r.partial(); why != "" {
		return fmt.Errorf("baseline: %w: %s", ErrInvalidReport, why)
	}
	if len(b.Executions) > 0 {
		if a, c := shape(b.Executions[0]), shape(r); a != c {
			return fmt.Errorf("baseline: the execution's runs and steps (%s) differ from the baseline's (%s): start the baseline over (%s=new)", c, a, UpdateBaselinesEnv)
		}
	}
	b.Executions = append(b.Executions, r.Baseline())
	for len(b.Machines) < len(b.Executions)-1 {
		b.Machines = append(b.Machines, nil)
	}
	b.Machines = append(b.Machines, m)
	return nil
}

// machine returns the machine of execution i, nil when unknown.
func (b *Baseline) machine(i int) *Machine {
	if i < len(b.Machines) {
		return b.Machines[i]
	}
	return nil
}

// shape names a report's runs and steps, to tell whether two reports
// come from one plan.
func shape(r *Report) string {
	var parts []string
	for _, run := range r.Runs {
		if run == nil {
			continue
		}
		var steps []string
		for _, s := range run.Steps {
			if s != nil {
				steps = append(steps, s.Name)
			}
		}
		parts = append(parts, fmt.Sprintf("%q: %q", run.Name, steps))
	}
	return Printable(strings.Join(parts, "; "))
}

// WriteJSON writes the baseline (JSON, fields in a stable order).
func (b *Baseline) WriteJSON(w io.Writer) error {
	f := baselineFile{Version: baselineVersion}
	for i, r := range b.Executions {
		var buf bytes.Buffer
		if err := r.Baseline().WriteJSON(&buf); err != nil {
			return err
		}
		f.Executions = append(f.Executions, baselineExecution{Machine: b.machine(i), Report: json.RawMessage(bytes.TrimSpace(buf.Bytes()))})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// Write stores the baseline at path, creating the directory; the file
// is replaced atomically.
func (b *Baseline) Write(path string) error {
	var buf bytes.Buffer
	if err := b.WriteJSON(&buf); err != nil {
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

// WriteBaseline stores a baseline of the executions rs at path,
// replacing the file (machines unknown; AppendBaseline records this
// one's).
func WriteBaseline(path string, rs ...*Report) error {
	var b Baseline
	for _, r := range rs {
		if err := b.Add(r, nil); err != nil {
			return err
		}
	}
	return b.Write(path)
}

// AppendBaseline adds the execution r, recorded on machine m, to the
// baseline at path (creating the file) and returns the baseline. Run
// the plan at different moments (BENCHGATE_UPDATE_BASELINES=1 go test
// ./..., several times; or in separate CI jobs whose files
// MergeBaselines joins) so that the executions hold the machine's
// drift.
func AppendBaseline(path string, r *Report, m *Machine) (*Baseline, error) {
	b, err := ReadBaseline(path)
	if errors.Is(err, ErrNoBaseline) {
		b, err = &Baseline{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := b.Add(r, m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, b.Write(path)
}

// ErrNoBaseline is returned by ReadBaseline when the file does not exist.
var ErrNoBaseline = errors.New("no baseline")

// ReadBaseline reads a baseline written by Baseline.Write,
// WriteBaseline or AppendBaseline, or a single report (Report.WriteJSON;
// a baseline file of before executions were kept), which is a baseline
// of one execution. A missing file is an error wrapping ErrNoBaseline
// that says how to create one.
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: record one with %s=1 go test ./..., run %d times or more at different moments, and commit it",
			ErrNoBaseline, path, UpdateBaselinesEnv, MinBaselineExecutions)
	}
	if err != nil {
		return nil, err
	}
	b, err := DecodeBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return b, nil
}

// DecodeBaseline decodes a baseline's JSON, or a single report's.
// Every execution goes through ReadJSON, so each is checked as a report
// file is. Every error wraps ErrInvalidReport.
func DecodeBaseline(data []byte) (*Baseline, error) {
	b, err := decodeBaseline(data)
	if err != nil && !errors.Is(err, ErrInvalidReport) {
		err = &invalidReportError{err}
	}
	return b, err
}

func decodeBaseline(data []byte) (*Baseline, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("baseline JSON: %w", err)
	}
	if _, ok := probe["baseline_version"]; !ok {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		b := &Baseline{}
		if err := b.Add(r, nil); err != nil {
			return nil, err
		}
		return b, nil
	}
	var f baselineFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("baseline JSON: %w", err)
	}
	if f.Version != baselineVersion {
		return nil, fmt.Errorf("baseline JSON: baseline_version %d, want %d", f.Version, baselineVersion)
	}
	if len(f.Executions) == 0 {
		return nil, errors.New("baseline JSON: executions is empty")
	}
	b := &Baseline{}
	for i, e := range f.Executions {
		if len(e.Report) == 0 {
			return nil, fmt.Errorf("baseline JSON: executions[%d].report is missing", i)
		}
		r, err := ReadJSON(bytes.NewReader(e.Report))
		if err != nil {
			return nil, fmt.Errorf("executions[%d]: %w", i, err)
		}
		if err := b.Add(r, e.Machine); err != nil {
			return nil, fmt.Errorf("executions[%d]: %w", i, err)
		}
	}
	return b, nil
}

// MergeBaselines reads the baselines (or single reports) at paths and
// joins their executions into one baseline, in the order given: how
// executions recorded in separate processes or CI jobs become one file.
// Their runs and steps must agree.
func MergeBaselines(paths ...string) (*Baseline, error) {
	if len(paths) == 0 {
		return nil, errors.New("merge baselines: no files")
	}
	out := &Baseline{}
	for _, p := range paths {
		b, err := ReadBaseline(p)
		if err != nil {
			return nil, err
		}
		for i, r := range b.Executions {
			if err := out.Add(r, b.machine(i)); err != nil {
				return nil, fmt.Errorf("merge baselines: %s: %w", p, err)
			}
		}
	}
	return out, nil
}

// CompareBaseline compares the executions cur, run on machine here,
// with the baseline b (CompareExecutions). The comparison is refused,
// with both figures and no metric judged, when the two machines differ
// by more than MaxCalibrationRatio either way in the CPU they give the
// process (Machine.CPUs: cores, or the cgroup's CPU limit where that is
// lower) or in the time they took for the calibration workload: it
// would judge the machine, not the code. A nil here, or a figure the
// baseline did not record, skips that check.
func CompareBaseline(b *Baseline, cur []*Report, here *Machine, opts CompareOptions) *Comparison {
	if b == nil {
		b = &Baseline{}
	}
	o := opts.withDefaults()
	if why := b.differs(here, o.MaxCalibrationRatio); why != "" {
		// no metric judged: each would be the machine's verdict
		return &Comparison{Options: o, Looks: 1, Refused: why}
	}
	return CompareExecutions(b.Executions, cur, opts)
}

// differs says why the machine here cannot be compared with the
// baseline's ("" when it can, or when the figures are unknown).
func (b *Baseline) differs(here *Machine, maxRatio float64) string {
	if why := b.differsCPUs(here, maxRatio); why != "" {
		return why
	}
	if here == nil || here.Calibration <= 0 {
		return ""
	}
	var cals []float64
	var theirs *Machine
	for i := range b.Executions {
		if m := b.machine(i); m != nil && m.Calibration > 0 {
			cals = append(cals, float64(m.Calibration))
			theirs = m
		}
	}
	if len(cals) == 0 {
		return ""
	}
	slices.Sort(cals)
	base := medianSorted(cals)
	ratio := float64(here.Calibration) / base
	if ratio <= maxRatio && ratio >= 1/maxRatio {
		return ""
	}
	speed := fmt.Sprintf("%.2f× slower", ratio)
	if ratio < 1 {
		speed = fmt.Sprintf("%.2f× faster", 1/ratio)
	}
	return fmt.Sprintf("this machine ran the calibration workload in %v, the baseline's machine in %v (median of %d): %s, more than the %.2g× allowed (MaxCalibrationRatio), so a comparison would judge the machine, not the code. This machine: %s; the baseline's: %s. Record the baseline on this machine, wait for a quieter moment, or use a duet (loadtest.Duet), which measures both builds side by side",
		roundSig(here.Calibration), roundSig(time.Duration(base)), len(cals), speed, maxRatio, here, theirs)
}

// differsCPUs says why the CPU the machine here gives the process
// (Machine.CPUs) is too far from the baseline's machines' (their
// median) to compare: "" when it is not, or when either is unknown (a
// baseline recorded before the figure was kept). The fastest-of-many
// calibration does not see a CPU quota (a CFS quota lets short bursts
// run at full speed), so the limit is compared as read.
func (b *Baseline) differsCPUs(here *Machine, maxRatio float64) string {
	if here == nil || here.CPUs <= 0 {
		return ""
	}
	var cpus []float64
	for i := range b.Executions {
		if m := b.machine(i); m != nil && m.CPUs > 0 {
			cpus = append(cpus, m.CPUs)
		}
	}
	if len(cpus) == 0 {
		return ""
	}
	slices.Sort(cpus)
	base := medianSorted(cpus)
	var theirs *Machine
	for i := range b.Executions {
		if m := b.machine(i); m != nil && m.CPUs > 0 && (theirs == nil || math.Abs(m.CPUs-base) < math.Abs(theirs.CPUs-base)) {
			theirs = m
		}
	}
	ratio := here.CPUs / base
	if ratio <= maxRatio && ratio >= 1/maxRatio {
		return ""
	}
	more := fmt.Sprintf("%.2f× as much", ratio)
	if ratio < 1 {
		more = fmt.Sprintf("%.2f× less", 1/ratio)
	}
	return fmt.Sprintf("this machine gives the process %s, the baseline's machine gave it %s (median of %d): %s CPU, more than the %.2g× allowed (MaxCalibrationRatio), so a comparison would judge the machine, not the code. This machine: %s; the baseline's: %s. Record the baseline with the CPU limit this run has (Docker --cpus, Kubernetes CPU limits, the CI runner's size), or use a duet (loadtest.Duet), which measures both builds side by side",
		cpuText(here), cpuText(theirs), len(cpus), more, maxRatio, here, theirs)
}

// cpuText names a machine's CPU for the process: its cores, or its
// cgroup's limit and the file it came from.
func cpuText(m *Machine) string {
	if m.CPULimit > 0 && (m.Cores <= 0 || m.CPULimit <= float64(m.Cores)) {
		from := m.CPULimitFrom
		if from == "" {
			from = "source not recorded"
		}
		return fmt.Sprintf("%.3g cores (a CPU limit: %s)", m.CPUs, from)
	}
	return fmt.Sprintf("%.3g cores (no CPU limit)", m.CPUs)
}

// roundSig rounds d to about three significant digits.
func roundSig(d time.Duration) time.Duration { return d.Round(max(d/1000, 1)) }
