// Package mixin renders the monitoring mixin (mixin.libsonnet: alerts, recording rules,
// dashboards, in the monitoring-mixins convention) into the files the repository ships:
// alerts/sfbex.rules.yml, dashboards/*.json and the Helm chart's copies of them. Those files are
// outputs: edit the jsonnet, then run `go generate` here (TestGeneratedFilesUpToDate fails
// until you do).
package mixin

//go:generate go run ./cmd/sfbex-mixin -root ..

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/google/go-jsonnet"
)

//go:embed *.libsonnet alerts/*.libsonnet rules/*.libsonnet dashboards/*.libsonnet dashboards/*.jsonnet
var sources embed.FS

// Rendered is what the mixin produces for one configuration.
type Rendered struct {
	// Groups are the rule groups: recording rules first, then alerts.
	Groups []Group
	// Dashboards are the dashboards' JSON by file name.
	Dashboards map[string]json.RawMessage
}

// Group is one Prometheus rule group.
type Group struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// Rule is a recording or alerting rule.
type Rule struct {
	Record      string            `json:"record,omitempty"`
	Alert       string            `json:"alert,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Render evaluates the mixin with config (a Jsonnet object mixed into _config, e.g.
// `{sfbexSelector: 'job="x"'}`; empty for the defaults).
func Render(config string) (*Rendered, error) {
	if strings.TrimSpace(config) == "" {
		config = "{}"
	}
	out, err := evaluate(`
local m = (import 'mixin.libsonnet') + { _config+:: std.extVar('config') };
{
  groups: m.prometheusRules.groups + m.prometheusAlerts.groups,
  dashboards: m.grafanaDashboards,
}`, config)
	if err != nil {
		return nil, fmt.Errorf("evaluate the mixin: %w", err)
	}
	var r Rendered
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("the mixin's rules are not rules: %w", err)
	}
	return &r, nil
}

// embedImporter resolves an import relative to the importing file, as the jsonnet tool does,
// then from the mixin's root.
type embedImporter map[string]jsonnet.Contents

func (e embedImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	for _, p := range []string{path.Join(path.Dir(importedFrom), importedPath), path.Clean(importedPath)} {
		if c, ok := e[p]; ok {
			return c, p, nil
		}
	}
	return jsonnet.Contents{}, "", fmt.Errorf("import %q from %q: no such file in the mixin", importedPath, importedFrom)
}

// evaluate runs a Jsonnet snippet that may import the mixin's files; config is the
// snippet's extVar "config" ("{}" when not given).
func evaluate(snippet string, config ...string) (string, error) {
	files := map[string]jsonnet.Contents{}
	err := fs.WalkDir(sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := sources.ReadFile(p)
		files[p] = jsonnet.MakeContents(string(b))
		return err
	})
	if err != nil {
		return "", err
	}
	vm := jsonnet.MakeVM()
	vm.Importer(embedImporter(files))
	c := "{}"
	if len(config) > 0 {
		c = config[0]
	}
	vm.ExtCode("config", c)
	return vm.EvaluateAnonymousSnippet("snippet.jsonnet", snippet)
}

const rulesHeader = `# Prometheus rules for sfbex_exporter. Load with ` + "`rule_files: [sfbex.rules.yml]`" + `.
# GENERATED from mixin/ (mixin.libsonnet) by ` + "`go generate`" + ` in mixin/: do not edit; change the
# jsonnet, or import the mixin with your own _config (job selector, thresholds, runbook URL base).
# Thresholds are the sfbex-thresholds group's sfbex:threshold:* series; durations the for: clauses.
# docs/runbooks.md explains each alert.
`

// RulesYAML renders the rule groups as a Prometheus rule file, each rule's fields in the
// order people read them.
func (r *Rendered) RulesYAML() []byte {
	var b bytes.Buffer
	b.WriteString(rulesHeader)
	b.WriteString("groups:\n")
	writeGroups(&b, r.Groups, "  ")
	return b.Bytes()
}

func writeGroups(b *bytes.Buffer, groups []Group, ind string) {
	for i, g := range groups {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%s- name: %s\n%s  rules:\n", ind, quote(g.Name), ind)
		for _, rule := range g.Rules {
			in := ind + "    "
			if rule.Record != "" {
				fmt.Fprintf(b, "%s- record: %s\n", ind+"  ", quote(rule.Record))
			} else {
				fmt.Fprintf(b, "%s- alert: %s\n", ind+"  ", quote(rule.Alert))
			}
			writeScalar(b, in, "expr", rule.Expr)
			if rule.For != "" {
				fmt.Fprintf(b, "%sfor: %s\n", in, quote(rule.For))
			}
			writeMap(b, in, "labels", rule.Labels, nil)
			writeMap(b, in, "annotations", rule.Annotations, []string{"summary", "description", "runbook_url"})
		}
	}
}

func writeScalar(b *bytes.Buffer, ind, key, v string) {
	if !strings.Contains(strings.TrimSuffix(v, "\n"), "\n") {
		fmt.Fprintf(b, "%s%s: %s\n", ind, key, quote(strings.TrimSuffix(v, "\n")))
		return
	}
	fmt.Fprintf(b, "%s%s: |\n", ind, key)
	for _, line := range strings.Split(strings.TrimSuffix(v, "\n"), "\n") {
		fmt.Fprintf(b, "%s  %s\n", ind, line)
	}
}

func writeMap(b *bytes.Buffer, ind, key string, m map[string]string, order []string) {
	if len(m) == 0 {
		return
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return len(order)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(b, "%s%s:\n", ind, key)
	for _, k := range keys {
		writeScalar(b, ind+"  ", k, m[k])
	}
}

// quote writes a YAML double-quoted scalar: JSON's string syntax is a subset of it.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a Go string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// DashboardJSON renders one dashboard as the files in dashboards/ are written: two-space
// indentation, keys sorted, a final newline.
func DashboardJSON(raw json.RawMessage) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ChartFiles is where the Helm chart finds the rules and dashboards.
const ChartFiles = "deploy/helm/sfbex-exporter/files"

// Files returns the repository's generated files (paths relative to the repository root)
// for the default configuration.
func Files() (map[string][]byte, error) {
	r, err := Render("")
	if err != nil {
		return nil, err
	}
	rules := r.RulesYAML()
	out := map[string][]byte{
		"alerts/sfbex.rules.yml": rules,
		// The Helm chart can read only files inside it: its PrometheusRule and dashboard
		// ConfigMaps are built from these copies.
		path.Join(ChartFiles, "sfbex.rules.yml"): rules,
	}
	for name, raw := range r.Dashboards {
		b, err := DashboardJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[path.Join("dashboards", name)] = b
		out[path.Join(ChartFiles, "dashboards", name)] = b
	}
	return out, nil
}
