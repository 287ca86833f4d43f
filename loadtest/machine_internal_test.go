package loadtest

import (
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		text string
		want float64
		err  string
	}{
		{"max 100000\n", 0, ""},
		{"50000 100000\n", 0.5, ""},
		{"200000 100000", 2, ""},
		{"150000 100000\n", 1.5, ""},
		{"max", 0, "want quota and period"},
		{"", 0, "want quota and period"},
		{"50000 0", 0, `period "0"`},
		{"0 100000", 0, `quota "0"`},
		{"-1 100000", 0, `quota "-1"`},
		{"x 100000", 0, `quota "x"`},
		{"50000 100000 7", 0, "want quota and period"},
	}
	for _, tt := range tests {
		got, err := parseCPUMax(tt.text)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseCPUMax(%q) err = %v, want one saying %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v", tt.text, got, err, tt.want)
		}
	}
}

func TestParseCFSQuota(t *testing.T) {
	tests := []struct {
		quota, period string
		want          float64
		err           string
	}{
		{"-1\n", "100000\n", 0, ""},
		{"50000\n", "100000\n", 0.5, ""},
		{"25000", "50000", 0.5, ""},
		{"300000\n", "100000\n", 3, ""},
		{"0\n", "100000\n", 0, `cpu.cfs_quota_us "0\n"`},
		{"-2\n", "100000\n", 0, "cpu.cfs_quota_us"},
		{"x", "100000", 0, "cpu.cfs_quota_us"},
		{"50000", "0", 0, `cpu.cfs_period_us "0"`},
		{"50000", "", 0, "cpu.cfs_period_us"},
		{"-1", "", 0, ""}, // no limit: the period does not matter
	}
	for _, tt := range tests {
		got, err := parseCFSQuota(tt.quota, tt.period)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseCFSQuota(%q, %q) err = %v, want one saying %q", tt.quota, tt.period, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseCFSQuota(%q, %q) = %v, %v; want %v", tt.quota, tt.period, got, err, tt.want)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name, text, v2, v1, err string
	}{
		{"hybrid (this project's runner)", "9:name=systemd:/\n4:memory:/x\n2:cpuacct:/\n1:cpu:/benchgate-study-42\n0::/\n", "/", "/benchgate-study-42", ""},
		{"v1 cpu,cpuacct (Docker on cgroup v1)", "5:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n", "", "/docker/abc", ""},
		{"v2 only", "0::/user.slice/session-1.scope\n", "/user.slice/session-1.scope", "", ""},
		{"cpuacct is not cpu", "2:cpuacct:/a\n", "", "", ""},
		{"empty", "", "", "", ""},
		{"no path", "1:cpu\n", "", "", "want id:controllers:/path"},
		{"relative path", "0::x\n", "", "", "want id:controllers:/path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2, v1, err := parseProcCgroup(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || v2 != tt.v2 || v1 != tt.v1 {
				t.Fatalf("= %q, %q, %v; want %q, %q", v2, v1, err, tt.v2, tt.v1)
			}
		})
	}
}

func TestParseMountinfo(t *testing.T) {
	text := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
42 31 0:39 / /mnt/with\040space rw - cgroup2 cgroup2 rw
garbage
`
	got := parseMountinfo(text)
	want := []cgroupMount{
		{root: "/", point: "/sys/fs/cgroup/cpu"},
		{root: "/docker/abc", point: "/sys/fs/cgroup/cpu,cpuacct"},
		{v2: true, root: "/", point: "/sys/fs/cgroup/unified"},
		{v2: true, root: "/", point: "/mnt/with space"},
	}
	if len(got) != len(want) {
		t.Fatalf("= %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseCPUStat(t *testing.T) {
	v1 := "nr_periods 120\nnr_throttled 100\nthrottled_time 5000000000\nnr_bursts 0\nburst_time 0\n"
	v2 := "usage_usec 1\nuser_usec 1\nsystem_usec 0\nnr_periods 50\nnr_throttled 10\nthrottled_usec 250000\n"
	tests := []struct {
		name string
		text string
		v2   bool
		want throttling
		err  string
	}{
		{"v1", v1, false, throttling{periods: 120, throttled: 100, time: 5 * time.Second}, ""},
		{"v2", v2, true, throttling{periods: 50, throttled: 10, time: 250 * time.Millisecond}, ""},
		{"v2 without the cpu controller", "usage_usec 10\nuser_usec 5\nsystem_usec 5\n", true, throttling{}, "no cpu controller"},
		{"v1 read as v2", v1, true, throttling{}, "no cpu controller"},
		{"negative", "nr_periods -1\nnr_throttled 0\nthrottled_time 0\n", false, throttling{}, `nr_periods "-1"`},
		{"word", "nr_periods 1\nnr_throttled x\nthrottled_time 0\n", false, throttling{}, `nr_throttled "x"`},
		{"usec overflows", "nr_periods 1\nnr_throttled 1\nthrottled_usec 9223372036854775807\n", true, throttling{}, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUStat(tt.text, tt.v2)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestFindCPULimit: the walk from the process's cgroup to the mount's
// root, in v1 and v2, takes the tightest limit, and reads a container's
// mount (whose root is its own cgroup) below that root.
func TestFindCPULimit(t *testing.T) {
	files := map[string]string{
		// v1: the process in /a/b, limits at /a (0.5) and /a/b (1.5)
		"/sys/fs/cgroup/cpu/cpu.cfs_quota_us":      "-1\n",
		"/sys/fs/cgroup/cpu/cpu.cfs_period_us":     "100000\n",
		"/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us":    "50000\n",
		"/sys/fs/cgroup/cpu/a/cpu.cfs_period_us":   "100000\n",
		"/sys/fs/cgroup/cpu/a/b/cpu.cfs_quota_us":  "150000\n",
		"/sys/fs/cgroup/cpu/a/b/cpu.cfs_period_us": "100000\n",
		// v2: the process in /k/pod/c, limits at /k/pod (2) and /k/pod/c (max)
		"/sys/fs/cgroup/k/pod/cpu.max":   "200000 100000\n",
		"/sys/fs/cgroup/k/pod/c/cpu.max": "max 100000\n",
		// a container's v1 mount of its own cgroup
		"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "25000\n",
		"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
	}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	v1mount := "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
	v2mount := "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
	tests := []struct {
		name, cgroup, mountinfo string
		cores                   float64
		from                    string
		dirs                    int
	}{
		{"v1 parent is tighter", "1:cpu:/a/b\n", v1mount, 0.5, "/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us 50000 every cpu.cfs_period_us 100000", 2},
		{"v1 own cgroup", "1:cpu:/a\n", v1mount, 0.5, "/sys/fs/cgroup/cpu/a/", 1},
		{"v1 root: no limit", "1:cpu:/\n", v1mount, 0, "", 1},
		{"v1 no cpu line", "2:cpuacct:/a/b\n", v1mount, 0, "", 0},
		{"v2 parent", "0::/k/pod/c\n", v2mount, 2, `/sys/fs/cgroup/k/pod/cpu.max "200000 100000"`, 2},
		{"v2 not mounted", "0::/k/pod/c\n", v1mount, 0, "", 0},
		{"both: the tightest", "1:cpu:/a/b\n0::/k/pod/c\n", v1mount + v2mount, 0.5, "/sys/fs/cgroup/cpu/a/", 4},
		{"container's own cgroup as the mount's root", "5:cpu,cpuacct:/docker/abc\n",
			"35 31 0:32 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n", 0.25, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 25000", 1},
		{"a path outside the mount's root", "5:cpu,cpuacct:/other\n",
			"35 31 0:32 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n", 0, "", 0},
		{"unreadable /proc/self/cgroup", "garbage", v1mount, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := findCPULimit(tt.cgroup, tt.mountinfo, read)
			if lim.cores != tt.cores || !strings.Contains(lim.from, tt.from) || len(lim.dirs) != tt.dirs {
				t.Fatalf("= %v cores from %q, dirs %+v; want %v from %q, %d dirs", lim.cores, lim.from, lim.dirs, tt.cores, tt.from, tt.dirs)
			}
		})
	}
}

func TestEffectiveCPUs(t *testing.T) {
	for _, tt := range []struct {
		cores int
		limit float64
		want  float64
	}{{2, 0, 2}, {2, 0.5, 0.5}, {2, 4, 2}, {8, 2, 2}, {0, 0.5, 0.5}, {0, 0, 0}} {
		if got := effectiveCPUs(tt.cores, tt.limit); got != tt.want {
			t.Errorf("effectiveCPUs(%d, %v) = %v, want %v", tt.cores, tt.limit, got, tt.want)
		}
	}
}

func FuzzCgroupParsers(f *testing.F) {
	for _, s := range []string{
		"max 100000\n", "50000 100000\n", "-1\n", "1:cpu:/a\n0::/b\n",
		"32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
		"nr_periods 1\nnr_throttled 1\nthrottled_usec 5\n", `42 31 0:39 / /mnt/a\040b\0 rw - cgroup2 cgroup2 rw`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if c, err := parseCPUMax(text); err == nil && (c < 0 || math.IsNaN(c) || math.IsInf(c, 0)) {
			t.Fatalf("cpu.max %q: %v", text, c)
		}
		if c, err := parseCFSQuota(text, text); err == nil && (c < 0 || math.IsNaN(c)) {
			t.Fatalf("cfs %q: %v", text, c)
		}
		if c, err := parseCFSQuota(text, "100000"); err == nil && (c < 0 || math.IsNaN(c)) {
			t.Fatalf("cfs %q: %v", text, c)
		}
		_, _, _ = parseProcCgroup(text)
		for _, m := range parseMountinfo(text) {
			if m.point == "" {
				t.Fatalf("mountinfo %q: a mount without a point", text)
			}
		}
		for _, v2 := range []bool{false, true} {
			if st, err := parseCPUStat(text, v2); err == nil && (st.periods < 0 || st.throttled < 0 || st.time < 0) {
				t.Fatalf("cpu.stat %q: %+v", text, st)
			}
		}
		lim := findCPULimit(text, text, func(string) ([]byte, error) { return []byte(text), nil })
		if lim.cores < 0 || math.IsNaN(lim.cores) {
			t.Fatalf("limit %q: %+v", text, lim)
		}
	})
}
