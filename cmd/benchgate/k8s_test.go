package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// decodeJob decodes one rendered Job strictly with the Kubernetes API's
// own types: a field they do not know fails.
func decodeJob(t *testing.T, data []byte) *batchv1.Job {
	t.Helper()
	var j batchv1.Job
	if err := yaml.UnmarshalStrict(data, &j); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Name == "" {
		t.Fatalf("apiVersion %q kind %q name %q", j.APIVersion, j.Kind, j.Name)
	}
	ps := j.Spec.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("%s: restartPolicy %q", j.Name, ps.RestartPolicy)
	}
	if len(ps.Containers) != 1 || ps.Containers[0].Name == "" || ps.Containers[0].Image == "" {
		t.Fatalf("%s: containers %+v", j.Name, ps.Containers)
	}
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
		t.Fatalf("%s: backoffLimit %v", j.Name, j.Spec.BackoffLimit)
	}
	// every volume mounted exists
	vols := map[string]bool{}
	for _, v := range ps.Volumes {
		vols[v.Name] = v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != ""
	}
	for _, m := range ps.Containers[0].VolumeMounts {
		if !vols[m.Name] || m.MountPath == "" {
			t.Fatalf("%s: mount %+v of no claimed volume", j.Name, m)
		}
	}
	// the pod template's labels match the selector of its anti-affinity
	return &j
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// The rendered Indexed Job decodes strictly as a batch/v1 Job with every
// required field: Indexed completion, completions = parallelism = N,
// backoffLimit 0, restartPolicy Never, the shard contract in the
// environment (the shard from the completion index, N, T0, the shard's
// file on the shared volume), pods spread by hostname; the merge Job
// merges RESULTS/shard-*.json and runs the gate.
func TestK8sJobStrict(t *testing.T) {
	now := time.Date(2026, 12, 7, 4, 0, 0, 500, time.UTC)
	for _, spread := range []string{"preferred", "required"} {
		f := k8sJobFlags{name: "checkout-load", namespace: "perf", image: "registry.example/app-test:1", shards: 4, lead: 3 * time.Minute, deadline: time.Hour,
			command: []string{"./app.test"}, args: []string{"-test.run=TestLoad", "-test.v"}, results: "/results", spread: spread,
			gate: "benchgate compare /baseline/base.json /results/merged.json"}
		shards, merge, err := renderK8sJobs(f, now)
		if err != nil {
			t.Fatal(err)
		}
		j := decodeJob(t, shards)
		s := j.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			t.Fatalf("completionMode %v", s.CompletionMode)
		}
		if s.Completions == nil || s.Parallelism == nil || *s.Completions != 4 || *s.Parallelism != 4 {
			t.Fatalf("completions %v parallelism %v, want 4 and 4", s.Completions, s.Parallelism)
		}
		if j.Namespace != "perf" || j.Name != "checkout-load" {
			t.Fatalf("namespace %q name %q", j.Namespace, j.Name)
		}
		c := s.Template.Spec.Containers[0]
		if strings.Join(c.Command, " ") != "./app.test" || strings.Join(c.Args, " ") != "-test.run=TestLoad -test.v" {
			t.Fatalf("command %q args %q", c.Command, c.Args)
		}
		env := envOf(c)
		if e := env["BENCHGATE_SHARD"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
			e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Fatalf("BENCHGATE_SHARD %+v", e)
		}
		if env["BENCHGATE_SHARDS"].Value != "4" || env["BENCHGATE_T0"].Value != "2026-12-07T04:03:00Z" ||
			env["BENCHGATE_OUT"].Value != "/results/shard-$(BENCHGATE_SHARD).json" {
			t.Fatalf("env %+v", c.Env)
		}
		// BENCHGATE_OUT's $(BENCHGATE_SHARD) only expands if declared earlier
		if c.Env[0].Name != "BENCHGATE_SHARD" {
			t.Fatalf("BENCHGATE_SHARD is not the first variable: %+v", c.Env)
		}
		aa := s.Template.Spec.Affinity.PodAntiAffinity
		var term corev1.PodAffinityTerm
		if spread == "required" {
			if len(aa.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || len(aa.PreferredDuringSchedulingIgnoredDuringExecution) != 0 {
				t.Fatalf("required anti-affinity %+v", aa)
			}
			term = aa.RequiredDuringSchedulingIgnoredDuringExecution[0]
		} else {
			if len(aa.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || len(aa.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
				t.Fatalf("preferred anti-affinity %+v", aa)
			}
			term = aa.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
		}
		if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector == nil {
			t.Fatalf("anti-affinity term %+v", term)
		}
		for k, v := range term.LabelSelector.MatchLabels {
			if s.Template.Labels[k] != v {
				t.Fatalf("anti-affinity selects %s=%s, the pods are labelled %v", k, v, s.Template.Labels)
			}
		}

		// the shard Job is bounded: the lead until T0 (2m59.9999995s)
		// plus --deadline's default hour, in whole seconds rounded up
		if s.ActiveDeadlineSeconds == nil || *s.ActiveDeadlineSeconds != 3780 {
			t.Fatalf("activeDeadlineSeconds %v, want 3780", s.ActiveDeadlineSeconds)
		}

		m := decodeJob(t, merge)
		if m.Name != "checkout-load-merge" || m.Namespace != "perf" || m.Spec.CompletionMode != nil ||
			*m.Spec.Completions != 1 || *m.Spec.Parallelism != 1 {
			t.Fatalf("merge job %+v", m.ObjectMeta)
		}
		mc := m.Spec.Template.Spec.Containers[0]
		script := strings.Join(mc.Command, " ")
		if script != "sh -c benchgate merge -o /results/merged.json /results/shard-*.json && benchgate compare /baseline/base.json /results/merged.json" {
			t.Fatalf("merge command %q", mc.Command)
		}
		if mc.Image != f.image || m.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "checkout-load-results" {
			t.Fatalf("merge image %q volumes %+v", mc.Image, m.Spec.Template.Spec.Volumes)
		}
	}
}

// The command writes both files with --out, or both documents to
// standard output; --t0 is taken as given.
func TestK8sJobCommand(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	t0 := time.Now().Add(time.Hour).Truncate(time.Second).Add(250 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	args := []string{"k8s", "job", "--name", "l", "--image", "img", "--shards", "2", "--t0", t0, "--deadline", "30m",
		"--merge-image", "benchgate:1", "--merge-command", "benchgate", "--merge-command", "merge", "--pvc", "shared"}
	if code := run(context.Background(), append(args, "--out", dir), &out, os.Stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, err := os.ReadFile(filepath.Join(dir, "l-shards.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j := decodeJob(t, data)
	if envOf(j.Spec.Template.Spec.Containers[0])["BENCHGATE_T0"].Value != t0 || j.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "shared" {
		t.Fatalf("t0 or claim: %s", data)
	}
	// about an hour until T0 and the half hour of --deadline (the
	// seconds the command took to start aside)
	if d := j.Spec.ActiveDeadlineSeconds; d == nil || *d < 80*60 || *d > 90*60+1 {
		t.Fatalf("activeDeadlineSeconds %v, want about 5400", d)
	}
	data, err = os.ReadFile(filepath.Join(dir, "l-merge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeJob(t, data)
	if c := m.Spec.Template.Spec.Containers[0]; c.Image != "benchgate:1" || strings.Join(c.Command, " ") != "benchgate merge" {
		t.Fatalf("merge container %+v", c)
	}
	out.Reset()
	if code := run(context.Background(), args, &out, os.Stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	docs := strings.Split(out.String(), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents on standard output", len(docs))
	}
	decodeJob(t, []byte(docs[0]))
	decodeJob(t, []byte(docs[1]))
}

// Every bad flag is refused before anything is written, naming the flag
// and the value.
func TestK8sJobBadFlags(t *testing.T) {
	ok := []string{"--name", "l", "--image", "img", "--shards", "2"}
	for _, tc := range []struct {
		args  []string
		words []string
	}{
		{[]string{"--image", "img", "--shards", "2"}, []string{"--name is required"}},
		{[]string{"--name", "Load_1"}, []string{"--name", "Load_1", "DNS label"}},
		{[]string{"--name", strings.Repeat("a", 58)}, []string{"--name", "57"}},
		{[]string{"--namespace", "Perf"}, []string{"--namespace", "Perf"}},
		{[]string{"--image", ""}, []string{"--image", `""`}},
		{[]string{"--shards", "0"}, []string{"--shards", `"0"`, "1 to 100000"}},
		{[]string{"--shards", "x"}, []string{"shards", "x"}},
		{[]string{"--t0", "tomorrow"}, []string{"--t0", "tomorrow", "RFC 3339"}},
		{[]string{"--t0", "2026-12-07T05:00:00Z", "--lead", "1m"}, []string{"--t0", "--lead", "give one"}},
		{[]string{"--lead", "-1m"}, []string{"--lead", "-1m0s", "negative"}},
		{[]string{"--lead", "soon"}, []string{"lead", "soon"}},
		{[]string{"--t0", "2020-01-01T00:00:00Z"}, []string{"--t0", "2020-01-01T00:00:00Z", "in the past", "at least 10s ahead"}},
		{[]string{"--t0", "2036-01-01T00:00:00Z"}, []string{"--t0", "2036-01-01T00:00:00Z", "at most 24h0m0s ahead"}},
		{[]string{"--t0", time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)}, []string{"--t0", "at least 10s ahead"}},
		{[]string{"--lead", "25h"}, []string{"--lead", "25h0m0s", "at most 24h0m0s"}},
		{[]string{"--lead", "3s"}, []string{"--lead", "3s", "at least 10s"}},
		{[]string{"--deadline", "0s"}, []string{"--deadline", "0s", "positive"}},
		{[]string{"--deadline", "800h"}, []string{"--deadline", "800h0m0s", "at most 720h0m0s"}},
		{[]string{"--results", "results"}, []string{"--results", "absolute"}},
		{[]string{"--spread", "always"}, []string{"--spread", "always", "preferred or required"}},
		{[]string{"--pvc", "My Claim"}, []string{"--pvc", "My Claim"}},
		{[]string{"--merge-image", "a b"}, []string{"--merge-image", "a b"}},
		{[]string{"extra"}, []string{"unexpected argument", "extra"}},
	} {
		var stderr, stdout bytes.Buffer
		args := append([]string{"k8s", "job"}, ok...)
		if tc.args[0] == "--image" && tc.args[1] == "img" {
			args = append([]string{"k8s", "job"}, tc.args...)
		} else {
			args = append(args, tc.args...)
		}
		dir := t.TempDir()
		args = append(args, "--out", dir)
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Fatalf("%q: exit %d, stderr %s", tc.args, code, stderr.String())
		}
		for _, w := range tc.words {
			if !strings.Contains(stderr.String(), w) {
				t.Fatalf("%q: stderr %q does not say %q", tc.args, stderr.String(), w)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 || stdout.Len() != 0 {
			t.Fatalf("%q: wrote %d files, stdout %q", tc.args, len(entries), stdout.String())
		}
	}
	if code := run(context.Background(), []string{"k8s", "pod"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("k8s pod: exit %d", code)
	}
}
