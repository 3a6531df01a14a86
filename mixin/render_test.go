package mixin

import (
	"io/fs"

	"bytes"
	"github.com/google/go-jsonnet/formatter"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The files in alerts/ and dashboards/ are what the mixin renders: edit the jsonnet, not them.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 16 {
		t.Fatalf("the mixin renders %d files, want the rule file and 7 dashboards, and the chart's copies", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v: run `go generate ./...` in mixin/", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the mixin renders: edit mixin/*.libsonnet, not the output, and run `go generate ./...` in mixin/", name)
		}
	}
	// A generated file whose source was removed would linger.
	for _, dir := range []string{"dashboards/*.json", "alerts/*.rules.yml", ChartFiles + "/*", ChartFiles + "/dashboards/*"} {
		present, _ := filepath.Glob(filepath.Join("..", dir))
		for _, p := range present {
			rel, _ := filepath.Rel("..", p)
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				continue
			}
			if _, ok := files[filepath.ToSlash(rel)]; !ok {
				t.Errorf("%s is not rendered by the mixin: remove it, or add its source to mixin/", rel)
			}
		}
	}
}

var metricSelector = regexp.MustCompile(`(?:^|[^:\w])(sfbex_[a-z0-9_]+|up)(\{[^}]*\})?`)

// Every metric selector of every rule carries _config.sfbexSelector, and the runbook links
// start with _config.runbookURLBase: an importer's values reach every rule.
func TestConfigReachesEveryRule(t *testing.T) {
	r, err := Render(`{ sfbexSelector: 'job="custom",namespace="mon"', runbookURLBase: 'https://runbooks.example/sfbex' }`)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if rule.Record != "" {
				continue
			}
			alerts++
			sels := metricSelector.FindAllStringSubmatch(rule.Expr, -1)
			if len(sels) == 0 {
				t.Errorf("%s: no metric selector in %q", rule.Alert, rule.Expr)
			}
			for _, s := range sels {
				if !strings.Contains(s[2], `job="custom",namespace="mon"`) {
					t.Errorf("%s: %s%s lacks the selector", rule.Alert, s[1], s[2])
				}
			}
			if strings.Contains(rule.Expr, `"sfbex"`) {
				t.Errorf("%s: the default job is hard-coded in %q", rule.Alert, rule.Expr)
			}
			if u := rule.Annotations["runbook_url"]; !strings.HasPrefix(u, "https://runbooks.example/sfbex#") {
				t.Errorf("%s: runbook_url %q does not use the configured base", rule.Alert, u)
			}
		}
	}
	if alerts < 30 {
		t.Errorf("%d alerts rendered, want every alert", alerts)
	}
	for name, raw := range r.Dashboards {
		if !strings.Contains(string(raw), `label_values(sfbex_exporter_build_info{job=\"custom\",namespace=\"mon\"}, job)`) {
			t.Errorf("%s: the job variable does not use the selector", name)
		}
	}
}

func TestThresholdsFromConfig(t *testing.T) {
	r, err := Render(`{ thresholds+: { tlsCertWarningDays: 45, sipProxyAddressCoverageRatio: 0.9 } }`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if rule.Record != "" {
				got[rule.Record] = rule.Expr
			}
		}
	}
	for record, want := range map[string]string{
		"sfbex:threshold:tls_cert_warning_days":           "vector(45)",
		"sfbex:threshold:tls_cert_critical_days":          "vector(14)",
		"sfbex:threshold:sip_proxyaddress_coverage_ratio": "vector(0.9)",
	} {
		if got[record] != want {
			t.Errorf("%s: %q, want %q", record, got[record], want)
		}
	}
}

// The names kube-prometheus and the monitoring-mixins tools look for.
func TestMixinConvention(t *testing.T) {
	for _, field := range []string{"_config", "prometheusAlerts", "prometheusRules", "grafanaDashboards"} {
		out, err := evaluate(`std.objectHasAll(import 'mixin.libsonnet', '` + field + `')`)
		if err != nil || strings.TrimSpace(out) != "true" {
			t.Errorf("mixin.libsonnet has no %s: %v %s", field, err, out)
		}
	}
}

// The sources are as jsonnetfmt writes them (go run github.com/google/go-jsonnet/cmd/jsonnetfmt -i).
func TestJsonnetFormatted(t *testing.T) {
	err := fs.WalkDir(sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := sources.ReadFile(p)
		if err != nil {
			return err
		}
		want, err := formatter.Format(p, string(b), formatter.DefaultOptions())
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if want != string(b) {
			t.Errorf("%s is not formatted: run jsonnetfmt -i on it", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
