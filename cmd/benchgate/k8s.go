package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// The subset of Kubernetes' batch/v1 Job that benchgate k8s job
// renders, with the API's field names (TestK8sJobStrict decodes the
// output strictly with k8s.io/api's own types).
type (
	k8sJob struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   k8sMeta    `yaml:"metadata"`
		Spec       k8sJobSpec `yaml:"spec"`
	}
	k8sMeta struct {
		Name      string            `yaml:"name,omitempty"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels,omitempty"`
	}
	k8sJobSpec struct {
		CompletionMode string `yaml:"completionMode,omitempty"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		BackoffLimit   int    `yaml:"backoffLimit"`
		// ActiveDeadlineSeconds bounds the Job's run from its start:
		// Kubernetes stops its pods and fails it after that.
		ActiveDeadlineSeconds int64       `yaml:"activeDeadlineSeconds,omitempty"`
		Template              k8sTemplate `yaml:"template"`
	}
	k8sTemplate struct {
		Metadata k8sMeta    `yaml:"metadata"`
		Spec     k8sPodSpec `yaml:"spec"`
	}
	k8sPodSpec struct {
		RestartPolicy string         `yaml:"restartPolicy"`
		Affinity      *k8sAffinity   `yaml:"affinity,omitempty"`
		Containers    []k8sContainer `yaml:"containers"`
		Volumes       []k8sVolume    `yaml:"volumes,omitempty"`
	}
	k8sAffinity struct {
		PodAntiAffinity k8sAntiAffinity `yaml:"podAntiAffinity"`
	}
	k8sAntiAffinity struct {
		Required  []k8sTerm         `yaml:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
		Preferred []k8sWeightedTerm `yaml:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
	}
	k8sWeightedTerm struct {
		Weight int     `yaml:"weight"`
		Term   k8sTerm `yaml:"podAffinityTerm"`
	}
	k8sTerm struct {
		LabelSelector k8sSelector `yaml:"labelSelector"`
		TopologyKey   string      `yaml:"topologyKey"`
	}
	k8sSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	k8sContainer struct {
		Name         string     `yaml:"name"`
		Image        string     `yaml:"image"`
		Command      []string   `yaml:"command,omitempty"`
		Args         []string   `yaml:"args,omitempty"`
		Env          []k8sEnv   `yaml:"env,omitempty"`
		VolumeMounts []k8sMount `yaml:"volumeMounts,omitempty"`
	}
	k8sEnv struct {
		Name      string        `yaml:"name"`
		Value     string        `yaml:"value,omitempty"`
		ValueFrom *k8sEnvSource `yaml:"valueFrom,omitempty"`
	}
	k8sEnvSource struct {
		FieldRef k8sFieldRef `yaml:"fieldRef"`
	}
	k8sFieldRef struct {
		FieldPath string `yaml:"fieldPath"`
	}
	k8sMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	k8sVolume struct {
		Name string      `yaml:"name"`
		PVC  k8sPVCClaim `yaml:"persistentVolumeClaim"`
	}
	k8sPVCClaim struct {
		ClaimName string `yaml:"claimName"`
	}
)

// k8sJobFlags are benchgate k8s job's settings.
type k8sJobFlags struct {
	name, namespace, image string
	shards                 int
	t0                     string
	lead, deadline         time.Duration
	command, args          []string
	results, claim, spread string
	mergeImage, gate       string
	mergeCommand           []string
	out                    string
}

// dns1123 is a Kubernetes object name that is also a DNS label.
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

const k8sIndexAnnotation = "batch.kubernetes.io/job-completion-index"

// The bounds of T0 (--t0, or now + --lead) and of --deadline. A T0 less
// than k8sMinLead ahead is (or soon will be) past when the pods start,
// and every shard refuses to run late; one more than k8sMaxLead ahead
// has the pods hold nodes while they sleep until it (a date mistyped,
// most likely). A run longer than k8sMaxDeadline is not a load test's.
const (
	k8sMinLead     = 10 * time.Second
	k8sMaxLead     = 24 * time.Hour
	k8sMaxDeadline = 30 * 24 * time.Hour
)

// renderK8sJobs validates f and returns the shard Job's and the merge
// Job's YAML; now is what --lead counts from and what --t0 is checked
// against (k8sMinLead to k8sMaxLead ahead). The shard Job's
// activeDeadlineSeconds is the lead until T0 plus f.deadline, rounded up
// to a second: counted from when the Job starts, which is after now, it
// leaves the run at least f.deadline after T0.
func renderK8sJobs(f k8sJobFlags, now time.Time) (shards, merge []byte, err error) {
	bad := func(flag, value, why string) error {
		return fmt.Errorf("--%s %q: %s", flag, value, why)
	}
	switch {
	case f.name == "":
		return nil, nil, fmt.Errorf("--name is required (the Job's name)")
	case len(f.name) > 57 || !dns1123.MatchString(f.name):
		return nil, nil, bad("name", f.name, "want a DNS label of at most 57 characters (lower-case letters, digits, '-'), room for the merge Job's \"-merge\"")
	case f.namespace != "" && (len(f.namespace) > 63 || !dns1123.MatchString(f.namespace)):
		return nil, nil, bad("namespace", f.namespace, "want a DNS label (lower-case letters, digits, '-', at most 63)")
	case f.image == "" || strings.ContainsAny(f.image, " \t\n"):
		return nil, nil, bad("image", f.image, "want a container image reference")
	case f.shards < 1 || f.shards > 100000:
		return nil, nil, bad("shards", strconv.Itoa(f.shards), "want 1 to 100000 (an Indexed Job's completions)")
	case f.results == "" || !path.IsAbs(f.results):
		return nil, nil, bad("results", f.results, "want an absolute path inside the container (where the shared volume is mounted)")
	case f.claim != "" && (len(f.claim) > 253 || !regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`).MatchString(f.claim)):
		return nil, nil, bad("pvc", f.claim, "want a PersistentVolumeClaim name")
	case f.spread != "preferred" && f.spread != "required":
		return nil, nil, bad("spread", f.spread, "want preferred or required")
	case f.mergeImage != "" && strings.ContainsAny(f.mergeImage, " \t\n"):
		return nil, nil, bad("merge-image", f.mergeImage, "want a container image reference")
	case f.deadline <= 0:
		return nil, nil, bad("deadline", f.deadline.String(), "must be positive (how long the run may take after T0)")
	case f.deadline > k8sMaxDeadline:
		return nil, nil, bad("deadline", f.deadline.String(), "want at most "+k8sMaxDeadline.String())
	}
	var t0 time.Time
	switch {
	case f.t0 != "" && f.lead != 0:
		return nil, nil, fmt.Errorf("--t0 %q and --lead %v: give one (T0, or how long from now T0 is)", f.t0, f.lead)
	case f.t0 != "":
		t0, err = time.Parse(time.RFC3339Nano, f.t0)
		if err != nil {
			return nil, nil, bad("t0", f.t0, "want an RFC 3339 time such as 2026-12-07T04:00:00Z")
		}
		switch lead := t0.Sub(now); {
		case lead < 0:
			return nil, nil, bad("t0", f.t0, fmt.Sprintf("in the past (it is %s): want a T0 at least %v ahead, so that the pods start before it",
				now.UTC().Format(time.RFC3339), k8sMinLead))
		case lead < k8sMinLead:
			return nil, nil, bad("t0", f.t0, fmt.Sprintf("%v ahead (it is %s): want a T0 at least %v ahead, so that the pods start before it",
				lead.Round(time.Millisecond), now.UTC().Format(time.RFC3339), k8sMinLead))
		case lead > k8sMaxLead:
			return nil, nil, bad("t0", f.t0, fmt.Sprintf("%v ahead (it is %s): want a T0 at most %v ahead (the pods would wait until then)",
				lead.Round(time.Second), now.UTC().Format(time.RFC3339), k8sMaxLead))
		}
	case f.lead < 0:
		return nil, nil, bad("lead", f.lead.String(), "must not be negative")
	case f.lead != 0 && f.lead < k8sMinLead:
		return nil, nil, bad("lead", f.lead.String(), fmt.Sprintf("want at least %v, so that the pods start before T0", k8sMinLead))
	case f.lead > k8sMaxLead:
		return nil, nil, bad("lead", f.lead.String(), fmt.Sprintf("want at most %v (the pods would wait until T0)", k8sMaxLead))
	default:
		lead := f.lead
		if lead == 0 {
			lead = 2 * time.Minute
		}
		t0 = now.Add(lead).Truncate(time.Second)
	}
	claim := f.claim
	if claim == "" {
		claim = f.name + "-results"
	}
	labels := map[string]string{"app.kubernetes.io/name": "benchgate", "benchgate.dev/job": f.name}
	term := k8sTerm{LabelSelector: k8sSelector{MatchLabels: map[string]string{"benchgate.dev/job": f.name}}, TopologyKey: "kubernetes.io/hostname"}
	aff := &k8sAffinity{}
	if f.spread == "required" {
		aff.PodAntiAffinity.Required = []k8sTerm{term}
	} else {
		aff.PodAntiAffinity.Preferred = []k8sWeightedTerm{{Weight: 100, Term: term}}
	}
	mount := []k8sMount{{Name: "results", MountPath: f.results}}
	volumes := []k8sVolume{{Name: "results", PVC: k8sPVCClaim{ClaimName: claim}}}
	shardJob := k8sJob{
		APIVersion: "batch/v1", Kind: "Job",
		Metadata: k8sMeta{Name: f.name, Namespace: f.namespace, Labels: labels},
		Spec: k8sJobSpec{
			CompletionMode: "Indexed", Completions: f.shards, Parallelism: f.shards, BackoffLimit: 0,
			ActiveDeadlineSeconds: int64((t0.Sub(now) + f.deadline + time.Second - 1) / time.Second),
			Template: k8sTemplate{
				Metadata: k8sMeta{Labels: labels},
				Spec: k8sPodSpec{
					RestartPolicy: "Never",
					Affinity:      aff,
					Containers: []k8sContainer{{
						Name: "shard", Image: f.image, Command: f.command, Args: f.args,
						Env: []k8sEnv{
							{Name: "BENCHGATE_SHARD", ValueFrom: &k8sEnvSource{FieldRef: k8sFieldRef{FieldPath: "metadata.annotations['" + k8sIndexAnnotation + "']"}}},
							{Name: "BENCHGATE_SHARDS", Value: strconv.Itoa(f.shards)},
							{Name: "BENCHGATE_T0", Value: t0.UTC().Format(time.RFC3339Nano)},
							{Name: "BENCHGATE_OUT", Value: path.Join(f.results, "shard-$(BENCHGATE_SHARD).json")},
						},
						VolumeMounts: mount,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	mergeImage := f.mergeImage
	if mergeImage == "" {
		mergeImage = f.image
	}
	mergeCmd := f.mergeCommand
	if len(mergeCmd) == 0 {
		merged := path.Join(f.results, "merged.json")
		script := "benchgate merge -o " + shellQuote(merged) + " " + shellQuote(f.results) + "/shard-*.json"
		if f.gate != "" {
			script += " && " + f.gate
		}
		mergeCmd = []string{"sh", "-c", script}
	}
	mergeLabels := map[string]string{"app.kubernetes.io/name": "benchgate", "benchgate.dev/job": f.name + "-merge"}
	mergeJob := k8sJob{
		APIVersion: "batch/v1", Kind: "Job",
		Metadata: k8sMeta{Name: f.name + "-merge", Namespace: f.namespace, Labels: mergeLabels},
		Spec: k8sJobSpec{
			Completions: 1, Parallelism: 1, BackoffLimit: 0,
			Template: k8sTemplate{
				Metadata: k8sMeta{Labels: mergeLabels},
				Spec: k8sPodSpec{
					RestartPolicy: "Never",
					Containers: []k8sContainer{{
						Name: "merge", Image: mergeImage, Command: mergeCmd,
						Env:          []k8sEnv{{Name: "BENCHGATE_SHARDS", Value: strconv.Itoa(f.shards)}, {Name: "BENCHGATE_T0", Value: t0.UTC().Format(time.RFC3339Nano)}},
						VolumeMounts: mount,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	if shards, err = marshalYAML(shardJob); err == nil {
		merge, err = marshalYAML(mergeJob)
	}
	return shards, merge, err
}

func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), e.Close()
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if regexp.MustCompile(`^[-A-Za-z0-9_./=:@+,]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func runK8s(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "job" {
		fmt.Fprintln(stderr, "usage: benchgate k8s job [flags] (benchgate k8s job -h)")
		return 2
	}
	var f k8sJobFlags
	fs := pflag.NewFlagSet("k8s job", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.name, "name", "", "the shard Job's name (a DNS label); the merge Job is NAME-merge")
	fs.StringVar(&f.namespace, "namespace", "", "the Jobs' namespace (default: kubectl's)")
	fs.StringVar(&f.image, "image", "", "the shard container's image: one holding the test binary (go test -c) or the module and Go")
	fs.IntVar(&f.shards, "shards", 0, "N: the Indexed Job's completions and parallelism; pod k runs shard k of N")
	fs.StringVar(&f.t0, "t0", "", "T0, when every shard starts (RFC 3339), 10s to 24h from now")
	fs.DurationVar(&f.lead, "lead", 0, "T0 is now plus this, whole seconds, 10s to 24h (default 2m when --t0 is not given); long enough for every pod to be scheduled, pull its image and be ready")
	fs.DurationVar(&f.deadline, "deadline", time.Hour, "how long the run may take after T0: the shard Job's activeDeadlineSeconds is the lead until T0 plus this, after which Kubernetes stops every pod still running and fails the Job")
	fs.StringArrayVar(&f.command, "command", nil, "the shard container's command, one flag per word (default: the image's entrypoint)")
	fs.StringArrayVar(&f.args, "args", nil, "the shard container's arguments, one flag per word")
	fs.StringVar(&f.results, "results", "/results", "where the shared volume is mounted in the pods: shard k writes RESULTS/shard-k.json (BENCHGATE_OUT)")
	fs.StringVar(&f.claim, "pvc", "", "the PersistentVolumeClaim (ReadWriteMany) mounted at --results (default NAME-results)")
	fs.StringVar(&f.spread, "spread", "preferred", "pod anti-affinity by kubernetes.io/hostname: preferred, or required (a pod waits for a node of its own)")
	fs.StringVar(&f.mergeImage, "merge-image", "", "the merge Job's image, with the benchgate command (default --image)")
	fs.StringArrayVar(&f.mergeCommand, "merge-command", nil, "the merge Job's whole command, one flag per word (default: sh -c 'benchgate merge -o RESULTS/merged.json RESULTS/shard-*.json && GATE')")
	fs.StringVar(&f.gate, "gate", "", "a shell command run after the merge that fails the merge Job on a regression (e.g. benchgate compare baseline.json /results/merged.json)")
	fs.StringVar(&f.out, "out", "", "write NAME-shards.yaml and NAME-merge.yaml into this directory (default: both to standard output, '---' between)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate k8s job --name NAME --image IMAGE --shards N [flags]\n\n"+
			"Renders a Kubernetes Indexed Job that runs one plan as N shards, pod k as shard k\n"+
			"(BENCHGATE_SHARD from the completion index, BENCHGATE_SHARDS, BENCHGATE_T0, BENCHGATE_OUT),\n"+
			"spread over nodes, and a Job that merges the shards' reports and gates on the result:\n\n"+
			"  kubectl apply -f NAME-shards.yaml\n"+
			"  kubectl wait --for=condition=complete --timeout=30m job/NAME\n"+
			"  kubectl apply -f NAME-merge.yaml\n"+
			"  kubectl wait --for=condition=complete --timeout=5m job/NAME-merge\n\nflags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args[1:]); err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, "benchgate k8s job:", err)
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "benchgate k8s job: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	shards, merge, err := renderK8sJobs(f, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "benchgate k8s job:", err)
		return 2
	}
	if f.out == "" {
		stdout.Write(shards)
		fmt.Fprintln(stdout, "---")
		stdout.Write(merge)
		return 0
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{f.name + "-shards.yaml", shards}, {f.name + "-merge.yaml", merge}} {
		p := filepath.Join(f.out, file.name)
		if err := os.WriteFile(p, file.data, 0o644); err != nil {
			fmt.Fprintln(stderr, "benchgate k8s job:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return 0
}
