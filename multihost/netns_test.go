//go:build linux

package multihost_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// The helper processes' environment (besides the shard contract).
const (
	envRole   = "BENCHGATE_NETNS_ROLE"   // "target" or "shard"
	envListen = "BENCHGATE_NETNS_LISTEN" // the target's TCP address
	envSocket = "BENCHGATE_NETNS_SOCKET" // the target's Unix socket (read by the test, outside the namespaces)
	envTarget = "BENCHGATE_NETNS_TARGET" // the shards' base URL
	envPlan   = "BENCHGATE_NETNS_PLAN"   // which plan the shard runs
	// envRequire makes a skip a failure (CI, where the test must run).
	envRequire = "BENCHGATE_REQUIRE_NETNS"
)

const (
	generators = 3
	subnet     = "10.77.0." // every run's namespaces are its own: no clash
	targetIP   = subnet + "1"
	targetPort = "8080"
	// helperLife bounds a helper process's life if the test dies
	// without killing it.
	helperLife = 90 * time.Second
	// budget bounds the whole test: every wait ends by then.
	budget = 55 * time.Second
)

func genIP(k int) string { return fmt.Sprintf("%s%d", subnet, 11+k) }

// plan is the plan every shard runs (by name, the same in each): the
// closed one of fixed repeat counts, or the longer open one that the
// killed-shard test stops a shard in.
func plan(name, target string) *loadtest.Plan {
	opts := []loadtest.Option{loadtest.BaseURL(target), loadtest.Seed(20), loadtest.ShardEnv()}
	switch name {
	case "closed":
		opts = append(opts, loadtest.Concurrency(3), loadtest.Runs(
			scenario.Run("browse", scenario.Get("/"), scenario.Get("/item")).Repeat(100),
			scenario.Run("buy", scenario.Post("/cart", "id=1")).Repeat(50),
		))
	case "long":
		opts = append(opts, loadtest.Runs(scenario.Run("tick", scenario.Get("/tick"))),
			loadtest.ArrivalRate(engine.Arrivals{Rate: 60, Duration: 8 * time.Second}))
	default:
		panic("no plan " + name)
	}
	return loadtest.New(opts...)
}

// closedPaths are the closed plan's requests by path: what the target
// must count and the merge must add up to (run, step).
var closedPaths = []struct {
	path      string
	run, step int
	want      int64
}{{"/", 0, 0, 100}, {"/item", 0, 1, 100}, {"/cart", 1, 0, 50}}

// counts is what the target counts: requests by path and by source
// address (the generator host that sent them).
type counts struct {
	Paths   map[string]int64 `json:"paths"`
	Sources map[string]int64 `json:"sources"`
}

func (c counts) total() (n int64) {
	for _, v := range c.Paths {
		n += v
	}
	return n
}

// TestHelperTarget is the target host's HTTP server (a helper process
// in the target namespace): it counts every request by path and source
// address and tells the counts at GET /counts on a Unix socket, which
// the test reaches from outside the namespaces.
func TestHelperTarget(t *testing.T) {
	if os.Getenv(envRole) != "target" {
		t.Skip("a helper process of TestMultiHost")
	}
	var mu sync.Mutex
	c := counts{Paths: map[string]int64{}, Sources: map[string]int64{}}
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		c.Paths[r.URL.Path]++
		c.Sources[host]++
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	report := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(c)
	})
	tcp, err := net.Listen("tcp", os.Getenv(envListen))
	if err != nil {
		t.Fatal(err)
	}
	unix, err := net.Listen("unix", os.Getenv(envSocket))
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(tcp, count)
	go http.Serve(unix, report)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(helperLife):
	}
}

// TestHelperShard is one shard (a helper process in a generator
// namespace): the plan named in the environment, made a shard by the
// shard contract there (loadtest.ShardEnv), its report written to
// BENCHGATE_OUT (through a rename: a shard killed before the end leaves
// no file) and its source address beside it (OUT.addr).
func TestHelperShard(t *testing.T) {
	if os.Getenv(envRole) != "shard" {
		t.Skip("a helper process of TestMultiHost")
	}
	c, ok, err := loadtest.ShardFromEnv()
	if err != nil || !ok || c.Out == "" || c.T0.IsZero() {
		t.Fatalf("shard contract: %+v, %v, %v", c, ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), helperLife)
	defer cancel()
	r, err := plan(os.Getenv(envPlan), os.Getenv(envTarget)).Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var addr string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && strings.HasPrefix(n.IP.String(), subnet) {
			addr = n.IP.String()
		}
	}
	if err := os.WriteFile(c.Out+".addr", []byte(addr), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Out+".tmp", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(c.Out+".tmp", c.Out); err != nil {
		t.Fatal(err)
	}
}

// hosts are the test's network: a bridge in a namespace of its own,
// the target and the generators each a namespace with a veth to it.
type hosts struct {
	t        *testing.T
	prefix   string
	bridge   string
	target   string
	gens     []string
	dir      string
	deadline time.Time // the test's budget's end
	socket   string
	mu       sync.Mutex
	procs    []*proc
	allNames []string
}

// skipOrFail skips (saying why) or, where the test must run, fails.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s=1 but the test cannot run: %s", envRequire, why)
	}
	t.Skip("multi-host test skipped: " + why)
}

// ipPath is iproute2's ip: in PATH, else where Debian puts it (a
// user's PATH often lacks /usr/sbin).
var ipPath = func() string {
	for _, p := range []string{"ip", "/usr/sbin/ip", "/sbin/ip"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}()

func ipCmd(args ...string) ([]byte, error) {
	out, err := exec.Command(ipPath, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// newHosts makes the namespaces and their links, all removed at the
// end of the test (processes in them killed first).
func newHosts(t *testing.T) *hosts {
	if ipPath == "" {
		skipOrFail(t, "iproute2's ip is neither in PATH nor in /usr/sbin, /sbin (apt-get install iproute2)")
	}
	id := make([]byte, 4)
	rand.Read(id)
	h := &hosts{t: t, prefix: "benchgate-" + hex.EncodeToString(id), dir: t.TempDir(), deadline: time.Now().Add(budget)}
	h.bridge, h.target = h.prefix+"-bridge", h.prefix+"-target"
	for k := range generators {
		h.gens = append(h.gens, fmt.Sprintf("%s-gen%d", h.prefix, k))
	}
	h.socket = filepath.Join(h.dir, "target.sock")
	// removal runs last (cleanups run in reverse): after every process
	t.Cleanup(h.remove)
	if _, err := ipCmd("netns", "add", h.bridge); err != nil {
		skipOrFail(t, fmt.Sprintf("cannot make a network namespace (it needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN; uid %d): %v", os.Geteuid(), err))
	}
	h.allNames = append(h.allNames, h.bridge)
	t.Cleanup(h.kill)
	must := func(args ...string) {
		t.Helper()
		if _, err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("-n", h.bridge, "link", "add", "br0", "type", "bridge")
	must("-n", h.bridge, "link", "set", "br0", "up")
	for i, ns := range append([]string{h.target}, h.gens...) {
		must("netns", "add", ns)
		h.allNames = append(h.allNames, ns)
		addr := targetIP
		if i > 0 {
			addr = genIP(i - 1)
		}
		port := fmt.Sprintf("p%d", i)
		must("link", "add", "name", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", h.bridge)
		must("-n", h.bridge, "link", "set", port, "master", "br0")
		must("-n", h.bridge, "link", "set", port, "up")
		must("-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
		must("-n", ns, "link", "set", "eth0", "up")
		must("-n", ns, "link", "set", "lo", "up")
	}
	return h
}

// syncBuffer is a process's output, read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a helper process: done is closed when it has ended, with err
// its Wait's.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// kill kills the process's group and waits (bounded) for its end.
func (p *proc) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// start runs the test binary's helper test inside namespace ns.
func (h *hosts) start(ns, helper string, env ...string) *proc {
	exe, err := os.Executable()
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(ipPath, "netns", "exec", ns, exe, "-test.run=^"+helper+"$", "-test.count=1", "-test.timeout=2m")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BENCHGATE_") && !strings.HasPrefix(kv, "JOB_COMPLETION_INDEX=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// ip netns exec execs the command: the helper is this process, in
	// a group of its own (killed as one), killed if the test dies
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	return p
}

// kill ends the helper processes still running and waits for them.
func (h *hosts) kill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.procs {
		if p.running() {
			p.kill()
		}
	}
}

// remove kills whatever still runs in the namespaces and deletes them;
// it fails the test if any is left.
func (h *hosts) remove() {
	for _, ns := range h.allNames {
		if out, err := ipCmd("netns", "pids", ns); err == nil {
			for _, f := range strings.Fields(string(out)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && pid > 0 {
					h.t.Errorf("process %d still in namespace %s: killed", pid, ns)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	for _, ns := range slices.Backward(h.allNames) {
		if _, err := ipCmd("netns", "del", ns); err != nil {
			h.t.Error(err)
		}
	}
	if out, err := ipCmd("netns", "list"); err == nil && strings.Contains(string(out), h.prefix) {
		h.t.Errorf("namespaces left: %s", out)
	}
}

// startTarget starts the target's server and waits until it answers.
func (h *hosts) startTarget() {
	p := h.start(h.target, "TestHelperTarget", envRole+"=target", envListen+"="+targetIP+":"+targetPort, envSocket+"="+h.socket)
	deadline := h.deadline
	if d := time.Now().Add(20 * time.Second); d.Before(deadline) {
		deadline = d
	}
	for {
		if _, err := h.counts(); err == nil {
			return
		}
		if !p.running() || time.Now().After(deadline) {
			h.t.Fatalf("the target did not answer by %v: %v\n%s", deadline.Format(time.TimeOnly), p.err, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// counts asks the target for its counts, over its Unix socket.
func (h *hosts) counts() (counts, error) {
	var c counts
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", h.socket)
		}}}
	defer cl.CloseIdleConnections()
	resp, err := cl.Get("http://target/counts")
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&c)
	return c, err
}

// shard is one shard process.
type shard struct {
	*proc
	file string
}

// runShards starts the plan as one shard per generator host, all at
// T0 (now + lead), each writing dir/name-k.json.
func (h *hosts) runShards(name string, lead time.Duration) ([]*shard, time.Time) {
	t0 := time.Now().Add(lead).UTC()
	var out []*shard
	for k, ns := range h.gens {
		file := filepath.Join(h.dir, fmt.Sprintf("%s-%d.json", name, k))
		p := h.start(ns, "TestHelperShard", envRole+"=shard", envPlan+"="+name,
			envTarget+"=http://"+targetIP+":"+targetPort,
			loadtest.EnvShard+"="+fmt.Sprint(k), loadtest.EnvShards+"="+fmt.Sprint(generators),
			loadtest.EnvT0+"="+t0.Format(time.RFC3339Nano), loadtest.EnvOut+"="+file)
		out = append(out, &shard{proc: p, file: file})
	}
	return out, t0
}

// wait waits (bounded) for the shard to end.
func (s *shard) wait(t *testing.T, k int, deadline time.Time) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(time.Until(deadline)):
		s.kill()
		t.Fatalf("shard %d did not end within the test's %v: %s", k, budget, s.out)
		return nil
	}
}

func readReport(t *testing.T, file string) *loadtest.Report {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := loadtest.ReadJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return r
}

// TestMultiHost runs one plan as 3 shards from 3 generator hosts
// (network namespaces, each its own address on a bridge) against a
// target host (another namespace, its server counting every request by
// path and source address), all started at one T0; merges the shards'
// report files and gates the merged report: the plan's requests exactly,
// the target's own counts per step, no failures, every shard from a
// host of its own (the target saw each generator's address send exactly
// that shard's requests). Then it runs a longer open-model plan, kills
// one shard mid-run (SIGKILL: it writes nothing) and checks that Merge
// refuses the others naming the missing shard, and that MergeWith
// AllowMissing keeps the others' data exactly, names the missing shard
// and fails every matcher.
func TestMultiHost(t *testing.T) {
	h := newHosts(t)
	h.startTarget()
	g := gomega.NewWithT(t)

	// 1. the closed plan from three hosts
	shards, t0 := h.runShards("closed", 3*time.Second)
	var reports []*loadtest.Report
	for k, s := range shards {
		if err := s.wait(t, k, h.deadline); err != nil {
			t.Fatalf("shard %d in %s: %v\n%s", k, h.gens[k], err, s.out)
		}
		reports = append(reports, readReport(t, s.file))
	}
	merged, err := loadtest.Merge(reports...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.counts()
	if err != nil {
		t.Fatal(err)
	}
	g.Expect(merged).To(matchers.HaveNoFailures())
	var want int64
	for _, p := range closedPaths {
		want += p.want
		step := merged.Runs[p.run].Steps[p.step]
		if step.Sent != p.want || step.Good != p.want || c.Paths[p.path] != p.want {
			t.Errorf("%s: the plan sends %d, the merge says %d sent, %d good, the target counted %d", p.path, p.want, step.Sent, step.Good, c.Paths[p.path])
		}
	}
	if merged.RequestsSent != want || merged.Latency.Count() != want || c.total() != want {
		t.Errorf("the plan sends %d requests; merged %d sent, %d latencies; the target counted %d", want, merged.RequestsSent, merged.Latency.Count(), c.total())
	}
	if len(c.Sources) != generators {
		t.Errorf("the target saw %d source addresses, want %d: %v", len(c.Sources), generators, c.Sources)
	}
	pids := map[int]bool{}
	for k, r := range reports {
		m := r.Shard
		addr, _ := os.ReadFile(shards[k].file + ".addr")
		if m.Index != k || !m.T0.Equal(t0) || pids[m.PID] {
			t.Errorf("shard %d's manifest: %s, T0 %v (want %v), pid %d", k, m, m.T0, t0, m.PID)
		}
		pids[m.PID] = true
		if string(addr) != genIP(k) || c.Sources[genIP(k)] != r.RequestsSent || r.RequestsSent == 0 {
			t.Errorf("shard %d ran from %q (want %s) and sent %d; the target counted %d from %s", k, addr, genIP(k), r.RequestsSent, c.Sources[genIP(k)], genIP(k))
		}
		t.Logf("shard %s from %s (%s, pid %d): %d requests, skew %v from T0", m, addr, h.gens[k], m.PID, r.RequestsSent, m.Skew)
	}
	t.Logf("closed plan: %d hosts, %d requests merged, the target counted %d by source %v", generators, merged.RequestsSent, c.total(), c.Sources)

	// 2. the open plan, shard 1 killed mid-run
	before := c
	shards, _ = h.runShards("long", 3*time.Second)
	const victim = 1
	deadline := h.deadline
	for {
		now, err := h.counts()
		if err != nil {
			t.Fatal(err)
		}
		if now.Sources[genIP(victim)]-before.Sources[genIP(victim)] >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shard %d sent fewer than 20 requests within the test's %v: %s", victim, budget, shards[victim].out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	shards[victim].kill()
	var ee *exec.ExitError
	if err := shards[victim].wait(t, victim, h.deadline); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("shard %d ended with %v, not killed", victim, err)
	}
	reports, names := nil, []string(nil)
	for k, s := range shards {
		if k == victim {
			continue
		}
		if err := s.wait(t, k, h.deadline); err != nil {
			t.Fatalf("shard %d in %s: %v\n%s", k, h.gens[k], err, s.out)
		}
		reports = append(reports, readReport(t, s.file))
		names = append(names, filepath.Base(s.file))
	}
	if _, err := os.Stat(shards[victim].file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed shard left a report: %v", err)
	}
	after, err := h.counts()
	if err != nil {
		t.Fatal(err)
	}
	sent := func(k int) int64 { return after.Sources[genIP(k)] - before.Sources[genIP(k)] }

	_, err = loadtest.MergeWith(loadtest.MergeOptions{Names: names}, reports...)
	if !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(fmt.Sprint(err), "1 of 3 shards missing: 1/3") {
		t.Errorf("merging without the killed shard: %v, want it named", err)
	}
	partial, err := loadtest.MergeWith(loadtest.MergeOptions{Names: names, AllowMissing: true}, reports...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(partial.MissingShards, []int{victim}) || !errors.Is(partial.Err, loadtest.ErrMissingShards) {
		t.Errorf("partial merge: missing %v, error %v", partial.MissingShards, partial.Err)
	}
	if ok, _ := matchers.HaveNoFailures().Match(partial); ok {
		t.Error("HaveNoFailures passed on a merge missing a shard")
	}
	var kept int64
	for _, r := range reports {
		k := r.Shard.Index
		// each shard judged alone (a shard's own report refuses a
		// verdict on the plan until its Shard is taken off)
		manifest := r.Shard
		r.Shard = nil
		g.Expect(r).To(matchers.HaveNoFailures(), "shard %d", k)
		r.Shard = manifest
		if sent(k) != r.RequestsSent {
			t.Errorf("shard %d reports %d requests, the target counted %d from %s", k, r.RequestsSent, sent(k), genIP(k))
		}
		kept += r.RequestsSent
	}
	step := partial.Runs[0].Steps[0]
	if partial.RequestsSent != kept || step.Sent != kept || partial.Latency.Count() != kept {
		t.Errorf("partial merge: %d sent (step %d, %d latencies), the two shards %d", partial.RequestsSent, step.Sent, partial.Latency.Count(), kept)
	}
	if sent(victim) < 20 || after.Paths["/tick"] != kept+sent(victim) {
		t.Errorf("the target counted %d /tick, %d from the killed shard; the merge keeps %d", after.Paths["/tick"], sent(victim), kept)
	}
	t.Logf("open plan (60/s for 8 s, 480 arrivals): shard %d killed after the target had %d of its requests; it left no report; the merge named it (%v) and kept the other two shards' %d requests (the target counted %d from them); %d requests reached the target that no report holds",
		victim, sent(victim), partial.Err, kept, sent(0)+sent(2), sent(victim))
}
