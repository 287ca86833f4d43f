package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// TestVUsRamp checks HTTP::LoadGen's ramp and shard numbering.
func TestVUsRamp(t *testing.T) {
	v := VUs{Shards: 3, Start: 2, Max: 6, RampUp: 4 * time.Second}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
	for k, w := range want {
		if got := v.StartAt(k); got != w {
			t.Errorf("VU %d starts at %v, want %v", k, got, w)
		}
	}
	if got := []int{v.ShardSize(0), v.ShardSize(1), v.ShardSize(2)}; got[0] != 2 || got[1] != 2 || got[2] != 2 {
		t.Errorf("shard sizes %v", got)
	}
	v7 := VUs{Shards: 3, Max: 7}
	if got := []int{v7.ShardSize(0), v7.ShardSize(1), v7.ShardSize(2), v7.ShardOf(4)}; got[0] != 3 || got[1] != 2 || got[2] != 2 || got[3] != 1 {
		t.Errorf("7 VUs in 3 shards: sizes and VU 4's shard %v", got)
	}
	// defaults: start = shards, max = start; a start above max never ramps
	if d := (VUs{Shards: 4}).Normalized(); d.Start != 4 || d.Max != 4 || d.Rounds != 1 {
		t.Errorf("defaults %+v", d)
	}
	if over := (VUs{Start: 5, Max: 3, RampUp: time.Second}); over.Normalized().Max != 5 || over.StartAt(4) != 0 {
		t.Errorf("start above max: %+v, VU 4 at %v", over.Normalized(), over.StartAt(4))
	}
	if n := (VUs{Max: 5, Rounds: 3}).Iterations(1, 2); n != 6 {
		t.Errorf("run 1 of 2 with 5 VUs × 3 rounds: %d iterations, want 6", n)
	}
}

// TestResultRecord: HTTP::LoadGen's result fields from a Result.
func TestResultRecord(t *testing.T) {
	start := time.Unix(100, 0)
	r := Result{Status: 501, HTTP11: true, Start: start, Connect: time.Millisecond, Send: time.Millisecond, Wait: 2 * time.Millisecond,
		HeadersDone: 5 * time.Millisecond, Total: 9 * time.Millisecond,
		Header: []byte("HTTP/1.1 501 Method Not Implemented\r\nAllow: GET\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n")}
	if got := r.StatusText(); got != "Method Not Implemented" {
		t.Errorf("status text %q", got)
	}
	if f := r.Fields(); len(f["set-cookie"]) != 2 || f["allow"][0] != "GET" || r.Proto() != "1.1" {
		t.Errorf("fields %q, proto %q", f, r.Proto())
	}
	s, c, fb, h, b := r.Times()
	if s != start || c != start.Add(time.Millisecond) || fb != start.Add(4*time.Millisecond) || h != start.Add(5*time.Millisecond) || b != start.Add(9*time.Millisecond) {
		t.Errorf("times %v %v %v %v %v", s, c, fb, h, b)
	}
	none := Result{Status: StatusNoResponse, Reason: "dial tcp: connection refused", Start: start}
	if none.StatusText() != "dial tcp: connection refused" || none.Proto() != "" {
		t.Errorf("no response: %q %q", none.StatusText(), none.Proto())
	}
	if _, _, fb, _, _ := none.Times(); !fb.IsZero() {
		t.Errorf("no response has a first byte at %v", fb)
	}
	if (&Result{Status: 404}).StatusText() != "Not Found" {
		t.Error("without a kept header, the standard text")
	}
}

// TestVUsValidateEveryError: Validate names each bad field with its
// value, and every run that gets no virtual user, all at once.
func TestVUsValidateEveryError(t *testing.T) {
	err := VUs{Max: -1, RampUp: -time.Second}.Validate(nil)
	for _, want := range []string{"VUs.Max -1: must not be negative", "VUs.RampUp -1s: must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v: want %q", err, want)
		}
	}
	p := &Plan{Runs: []scenario.RunSpec{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	err = VUs{Max: 1}.Validate(p)
	for _, want := range []string{`run "b" gets no virtual user`, `run "c" gets no virtual user`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v: want %q", err, want)
		}
	}
}
