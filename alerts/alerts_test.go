// Package alerts holds the Prometheus rules; this test checks them with the
// real promtool: syntax, and the unit tests in tests/ (every alert fires on
// its case and stays silent on the healthy case and across one failed run).
package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

func TestRulesPassPromtool(t *testing.T) {
	infra.Require(t, "promtool")
	rules, _ := filepath.Glob("*.rules.yml")
	if len(rules) == 0 {
		t.Fatal("no rule files")
	}
	out, err := exec.Command("promtool", append([]string{"check", "rules"}, rules...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests, _ := filepath.Glob("tests/*_test.yml")
	if len(tests) == 0 {
		t.Fatal("no rule tests")
	}
	out, err = exec.Command("promtool", append([]string{"test", "rules"}, tests...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// Every alert has a severity, a summary, a description and an absolute
// runbook link whose anchor exists in docs/runbooks.md, and every alert has
// a unit test.
func TestEveryAlertIsDocumentedAndTested(t *testing.T) {
	rules, _ := filepath.Glob("*.rules.yml")
	runbooks := readFile(t, "../docs/runbooks.md")
	anchors := map[string]bool{}
	for _, line := range strings.Split(runbooks, "\n") {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "##") {
			anchors[anchor(h)] = true
		}
	}
	var tests string
	testFiles, _ := filepath.Glob("tests/*_test.yml")
	for _, f := range testFiles {
		tests += readFile(t, f)
	}
	for _, f := range rules {
		for _, block := range strings.Split(readFile(t, f), "- alert: ")[1:] {
			name := strings.Trim(strings.TrimSpace(strings.SplitN(block, "\n", 2)[0]), `"`)
			for _, want := range []string{"severity:", "summary:", "description:", "runbook_url:"} {
				if !strings.Contains(block, want) {
					t.Errorf("%s: no %s", name, want)
				}
			}
			if !strings.HasPrefix(name, "Sfbex") {
				t.Errorf("%s: alert names start with Sfbex", name)
			}
			// runbook_url is the configured base (by default the agent's own page), then the anchor.
			_, after, ok := strings.Cut(block, "runbook_url: \"http://{{ $labels.instance }}/runbooks#")
			if !ok {
				t.Errorf("%s: runbook_url is not http://{{ $labels.instance }}/runbooks#<anchor>", name)
			}
			a, _, _ := strings.Cut(after, "\"")
			if !anchors[a] {
				t.Errorf("%s: runbook anchor #%s is not a heading in docs/runbooks.md", name, a)
			}
			if !strings.Contains(tests, "alertname: "+name+"\n") && !strings.Contains(tests, "alertname: "+name+",") {
				t.Errorf("%s: no promtool unit test", name)
			}
		}
	}
}

// anchor turns a Markdown heading into its GitHub anchor.
func anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
