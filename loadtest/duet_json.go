package loadtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// DuetVersion is the version of the duet file format that
// (*DuetReport).WriteJSON writes and ReadDuetJSON reads.
const DuetVersion = 1

// duetJSON is a duet's file: its fields, then each round's report as
// WriteJSON writes it. Durations are in nanoseconds, as a Report's.
type duetJSON struct {
	duetHead
	A     []json.RawMessage `json:"a"`
	B     []json.RawMessage `json:"b"`
	Pilot []json.RawMessage `json:"pilot,omitempty"`
}

// duetHead is a duet file's fields before the rounds.
type duetHead struct {
	Version      *int          `json:"duet_version"`
	Seed         uint64        `json:"seed"`
	T0           time.Time     `json:"t0,omitzero"`
	RoundTime    time.Duration `json:"round_time"`
	RoundGap     time.Duration `json:"round_gap,omitempty"`
	RoundChosen  bool          `json:"round_chosen,omitempty"`
	Looks        []int         `json:"looks"`
	PlannedLooks int           `json:"planned_looks"`
	Compare      compareJSON   `json:"compare"`
	BFirst       []bool        `json:"b_first"`
	// Judged is the pairs the duet's comparison judged (0: none, as
	// in a shard's duet), Elapsed its time; the comparison is made
	// again from the rounds when the file is read.
	Judged  int           `json:"judged_pairs,omitempty"`
	Elapsed time.Duration `json:"elapsed,omitempty"`
}

// compareJSON is CompareOptions in a duet's file (Confirm aside).
type compareJSON struct {
	Percentiles          []float64     `json:"percentiles"`
	MinEffect            float64       `json:"min_effect"`
	TailMinEffect        float64       `json:"tail_min_effect"`
	MinAbsolute          time.Duration `json:"min_absolute"`
	Alpha                float64       `json:"alpha"`
	MaxErrorRateIncrease float64       `json:"max_error_rate_increase"`
	PassInconclusive     bool          `json:"pass_inconclusive,omitempty"`
	MaxCalibrationRatio  float64       `json:"max_calibration_ratio"`
	GatedSpecs           int           `json:"gated_specs"`
}

// WriteJSON writes the duet as one JSON object: its seed, T0, round
// time and gap, pair orders, planned looks and comparison options, and each
// round's report as Report.WriteJSON writes it (A's rounds, B's, the
// pilot pair's). A shard of a duet run on another host hands its duet
// over in such a file; ReadDuetJSON reads it back, and MergeDuets (or
// `benchgate merge`) adds the shards' up. The comparison is not
// written: ReadDuetJSON makes it again from the rounds.
func (d *DuetReport) WriteJSON(w io.Writer) error {
	v := 1
	h := duetHead{Version: &v, Seed: d.Seed, T0: d.T0, RoundTime: d.RoundTime, RoundGap: d.RoundGap, Looks: d.Looks, PlannedLooks: d.PlannedLooks,
		BFirst: d.BFirst, Compare: compareJSON{Percentiles: d.Compare.Percentiles, MinEffect: d.Compare.MinEffect,
			TailMinEffect: d.Compare.TailMinEffect, MinAbsolute: d.Compare.MinAbsolute, Alpha: d.Compare.Alpha,
			MaxErrorRateIncrease: d.Compare.MaxErrorRateIncrease, PassInconclusive: d.Compare.PassInconclusive,
			MaxCalibrationRatio: d.Compare.MaxCalibrationRatio, GatedSpecs: d.Compare.GatedSpecs}}
	if c := d.Comparison; c != nil {
		h.Judged, h.Elapsed, h.RoundChosen = c.Pairs, c.Elapsed, c.RoundChosen
	}
	head, err := json.MarshalIndent(&h, "", "  ")
	if err != nil {
		return err
	}
	head = bytes.TrimSuffix(head, []byte("\n}")) // the rounds follow
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	var buf bytes.Buffer
	for _, side := range []struct {
		name   string
		rounds []*Report
	}{{"a", d.A}, {"b", d.B}, {"pilot", d.Pilot}} {
		if side.name == "pilot" && len(side.rounds) == 0 {
			continue
		}
		fmt.Fprintf(bw, ",\n  %q: [", side.name)
		for i, r := range side.rounds {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
			if r == nil {
				bw.WriteString("null")
				continue
			}
			buf.Reset()
			if err := r.WriteJSON(&buf); err != nil {
				return fmt.Errorf("duet JSON: %s[%d]: %w", side.name, i, err)
			}
			bw.Write(bytes.TrimRight(buf.Bytes(), "\n"))
		}
		bw.WriteString("\n  ]")
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// ReadDuetJSON reads a duet written by (*DuetReport).WriteJSON: each
// round's report is read and checked as ReadJSON reads one (what is
// allocated is bounded by the input's size), and the duet's own fields
// must hold together: a version of DuetVersion, as many rounds of A as
// of B and pair orders, looks rising from 1, comparison options in
// their ranges. A duet that was judged (one run in one process, or
// merged) gets its comparison again, made from its rounds at the pairs
// it was judged at; a shard's duet has none. A bad file gives an error
// that names what is wrong and wraps ErrInvalidReport.
func ReadDuetJSON(rd io.Reader) (*DuetReport, error) {
	d, err := readDuetJSON(rd)
	if err != nil {
		return nil, &invalidReportError{err}
	}
	return d, nil
}

func readDuetJSON(rd io.Reader) (*DuetReport, error) {
	data, err := readAll(rd)
	if err != nil {
		return nil, err
	}
	var v duetJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("duet JSON: %w", err)
	}
	if v.Version == nil {
		return nil, fmt.Errorf("duet JSON: no duet_version: not a duet's file (a report's? read it with ReadJSON)")
	}
	if *v.Version != DuetVersion {
		return nil, fmt.Errorf("duet JSON: version %d, want %d", *v.Version, DuetVersion)
	}
	if len(v.A) != len(v.B) || len(v.A) != len(v.BFirst) {
		return nil, fmt.Errorf("duet JSON: %d rounds of A, %d of B and %d pair orders (b_first): want one of each a pair", len(v.A), len(v.B), len(v.BFirst))
	}
	c := v.Compare
	for _, p := range c.Percentiles {
		if !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("duet JSON: compare: percentile %v: want above 0 and at most 100", p)
		}
	}
	switch {
	case len(c.Percentiles) == 0:
		return nil, fmt.Errorf("duet JSON: compare: no percentiles")
	case !(c.Alpha > 0 && c.Alpha < 1):
		return nil, fmt.Errorf("duet JSON: compare: alpha %v: want between 0 and 1", c.Alpha)
	case !(c.MinEffect > 0) || !(c.TailMinEffect > 0) || c.MinAbsolute < 0 || !(c.MaxErrorRateIncrease >= 0):
		return nil, fmt.Errorf("duet JSON: compare: min effect %v, tail min effect %v, min absolute %v, error rate increase %v: want them above 0",
			c.MinEffect, c.TailMinEffect, c.MinAbsolute, c.MaxErrorRateIncrease)
	case c.GatedSpecs < 1:
		return nil, fmt.Errorf("duet JSON: compare: gated specs %d: want 1 or more", c.GatedSpecs)
	case v.RoundTime < 0 || v.RoundGap < 0:
		return nil, fmt.Errorf("duet JSON: round time %v, gap %v: want 0 or more", v.RoundTime, v.RoundGap)
	}
	if err := checkLooks(v.Looks, v.PlannedLooks); len(v.Looks) > 0 && err != nil {
		return nil, fmt.Errorf("duet JSON: %w", err)
	}
	d := &DuetReport{Seed: v.Seed, T0: v.T0, RoundTime: v.RoundTime, RoundGap: v.RoundGap, Looks: v.Looks, PlannedLooks: v.PlannedLooks, BFirst: v.BFirst,
		Compare: CompareOptions{Percentiles: c.Percentiles, MinEffect: c.MinEffect, TailMinEffect: c.TailMinEffect, MinAbsolute: c.MinAbsolute,
			Alpha: c.Alpha, MaxErrorRateIncrease: c.MaxErrorRateIncrease, PassInconclusive: c.PassInconclusive,
			MaxCalibrationRatio: c.MaxCalibrationRatio, GatedSpecs: c.GatedSpecs}}
	read := func(name string, raws []json.RawMessage) ([]*Report, error) {
		out := make([]*Report, len(raws))
		for i, raw := range raws {
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				return nil, fmt.Errorf("duet JSON: %s[%d] is null", name, i)
			}
			r, err := decodeReport(raw, true)
			if err != nil {
				return nil, fmt.Errorf("duet JSON: %s[%d]: %w", name, i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	if d.A, err = read("a", v.A); err != nil {
		return nil, err
	}
	if d.B, err = read("b", v.B); err != nil {
		return nil, err
	}
	if d.Pilot, err = read("pilot", v.Pilot); err != nil {
		return nil, err
	}
	if v.Judged > 0 {
		if m := d.shard(); m != nil {
			return nil, fmt.Errorf("duet JSON: judged_pairs %d in the duet of shard %s: a shard's duet judges nothing", v.Judged, m)
		}
		if v.Judged > len(d.A) {
			return nil, fmt.Errorf("duet JSON: judged_pairs %d of %d pairs", v.Judged, len(d.A))
		}
		d.judgeAt(v.Judged, v.Elapsed, v.RoundChosen)
	}
	return d, nil
}
