package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const beyondDoc = "../../docs/beyond-one-machine.md"

// shellWords splits a documented command line: words separated by
// blanks, single quotes kept together, backslash-newline joins lines.
func shellWords(s string) []string {
	s = strings.ReplaceAll(s, "\\\n", " ")
	var words []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case !in && (r == ' ' || r == '\t' || r == '\n'):
			if any {
				words = append(words, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		words = append(words, cur.String())
	}
	return words
}

// The benchgate k8s job command the guide shows runs as written and
// renders Jobs that decode strictly.
func TestBeyondDocK8sCommand(t *testing.T) {
	doc, err := os.ReadFile(beyondDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i := strings.Index(text, "benchgate k8s job --name")
	if i < 0 {
		t.Fatal("the guide shows no benchgate k8s job command")
	}
	end := strings.Index(text[i:], "\nkubectl")
	words := shellWords(text[i : i+end])
	dir := t.TempDir()
	for k := range words {
		if words[k] == "--out" {
			words[k+1] = dir
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), words[1:], &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("%q: exit %d: %s", words, code, stderr.String())
	}
	for _, f := range []string{"checkout-load-shards.yaml", "checkout-load-merge.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("the guide's kubectl apply names %s: %v", f, err)
		}
		if !strings.Contains(text, "kubectl apply -f k8s/"+f) {
			t.Fatalf("the guide does not apply %s", f)
		}
		decodeJob(t, data)
	}
}

// The guide's GitHub Actions workflow is valid YAML with a T0 job, a
// matrix of N shard jobs that need it and each upload the file they
// write, and a merge job that needs the shards and runs even when one
// failed; BENCHGATE_SHARDS is the matrix's length and the shards are 0
// to N-1.
func TestBeyondDocWorkflow(t *testing.T) {
	doc, err := os.ReadFile(beyondDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i := strings.Index(text, "```yaml\nname: load")
	if i < 0 {
		t.Fatal("the guide shows no workflow")
	}
	block := text[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	type step struct {
		ID   string            `yaml:"id"`
		If   string            `yaml:"if"`
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		Env  map[string]string `yaml:"env"`
		With map[string]string `yaml:"with"`
	}
	type job struct {
		Needs    string            `yaml:"needs"`
		If       string            `yaml:"if"`
		RunsOn   string            `yaml:"runs-on"`
		Outputs  map[string]string `yaml:"outputs"`
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"`
			Matrix   struct {
				Shard []int `yaml:"shard"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []step `yaml:"steps"`
	}
	var wf struct {
		Name string         `yaml:"name"`
		On   []string       `yaml:"on"`
		Jobs map[string]job `yaml:"jobs"`
	}
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("workflow: %v\n%s", err, block)
	}
	t0, shard, merge := wf.Jobs["t0"], wf.Jobs["shard"], wf.Jobs["merge"]
	if len(wf.Jobs) != 3 || t0.Outputs["t0"] == "" || shard.Needs != "t0" || merge.Needs != "shard" || merge.If != "always()" {
		t.Fatalf("jobs %+v", wf.Jobs)
	}
	if shard.Strategy.FailFast == nil || *shard.Strategy.FailFast {
		t.Fatal("the shard matrix must not fail fast: one shard's failure would cancel the others")
	}
	ks := shard.Strategy.Matrix.Shard
	for k, v := range ks {
		if v != k {
			t.Fatalf("matrix shards %v, want 0 to N-1", ks)
		}
	}
	var env map[string]string
	var uploaded string
	for _, s := range shard.Steps {
		if s.Env != nil {
			env = s.Env
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact") {
			uploaded = s.With["path"]
		}
	}
	if n, err := strconv.Atoi(env["BENCHGATE_SHARDS"]); err != nil || n != len(ks) || len(ks) < 2 {
		t.Fatalf("BENCHGATE_SHARDS %q, matrix of %d", env["BENCHGATE_SHARDS"], len(ks))
	}
	if env["BENCHGATE_SHARD"] != "${{ matrix.shard }}" || env["BENCHGATE_T0"] != "${{ needs.t0.outputs.t0 }}" || env["BENCHGATE_OUT"] == "" || env["BENCHGATE_OUT"] != uploaded {
		t.Fatalf("shard env %v, uploads %q", env, uploaded)
	}
	if !strings.Contains(t0.Steps[0].Run, "+3 minutes") {
		t.Fatalf("T0 step %q: want a lead of minutes", t0.Steps[0].Run)
	}
	var merged bool
	for _, s := range merge.Steps {
		merged = merged || strings.Contains(s.Run, "benchgate merge -o merged.json shards/shard-*.json")
	}
	if !merged {
		t.Fatal("the merge job does not merge the downloaded shards")
	}
}
