package loadtest

import (
	"slices"
	"testing"
)

// TestProcessArgs: the copies' arguments keep this process's settings
// and leave out what would make them write its output files, join
// Ginkgo's parallel run or run other tests and specs.
func TestProcessArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		test string
		spec string
		want []string
	}{
		{name: "a test", args: []string{"-test.v", "-test.run", "TestA|TestB", "-test.coverprofile=c.out", "-test.timeout=10m"}, test: "TestA/sub 1",
			want: []string{"-test.run=^TestA$/^sub 1$", "-test.v", "-test.timeout=10m"}},
		{name: "arguments after the flags", args: []string{"-test.count=1", "-test.run", "X", "./other", "-test.v"}, test: "TestA",
			want: []string{"-test.run=^TestA$", "-test.count=1", "./other", "-test.v"}},
		{name: "a test under ginkgo -p", args: []string{"--ginkgo.parallel.process=1", "--ginkgo.parallel.total", "2", "--ginkgo.focus=x", "-test.v"}, test: "TestSuite",
			want: []string{"-test.run=^TestSuite$", "--ginkgo.focus=x", "-test.v"}},
		{name: "a spec: the parent's -test.run stays", spec: "s", args: []string{"-test.run=TestSuite", "--ginkgo.focus=x", "-test.v"},
			want: []string{"--ginkgo.focus=(^| )s$", "-test.run=TestSuite", "-test.v"}},
		{name: "a spec in the suite's test", spec: "s", test: "TestSuite", args: []string{"-test.run=Test", "-test.v"},
			want: []string{"--ginkgo.focus=(^| )s$", "-test.run=^TestSuite$", "-test.v"}},
		{name: "a spec under ginkgo -p", spec: "checkout (under load) [fast]",
			args: []string{"-test.timeout=0", "--ginkgo.parallel.process=2", "--ginkgo.parallel.total=4", "--ginkgo.parallel.host=http://127.0.0.1:4000",
				"--ginkgo.focus=checkout", "--ginkgo.label-filter", "load", "--ginkgo.junit-report=r.xml", "--ginkgo.randomize-all", "--ginkgo.seed=7"},
			want: []string{`--ginkgo.focus=(^| )checkout \(under load\) \[fast\]$`, "-test.timeout=0", "--ginkgo.randomize-all", "--ginkgo.seed=7"}},
	} {
		var got []string
		if c.spec != "" {
			got = specArgs(c.args, c.spec, c.test)
		} else {
			got = childArgs(c.args, c.test)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
