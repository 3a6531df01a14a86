package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/lab"
)

// The docs tables are checked against the code: each list below is read
// from the code, so a variable, lab fault or metric added anywhere must be
// documented, and a documented one that is gone fails too.

const moduleRoot = "../.."

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// agentGoFiles parses every non-test Go file of the agent (everything but
// test/, testdata and _test.go files).
func agentGoFiles(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != moduleRoot && (d.Name() == "test" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d Go files under %s: wrong root?", len(files), moduleRoot)
	}
	return fset, files
}

func stringLit(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// variablesRead lists the SFBEX_* variables the agent reads: every
// variable the estate, the web client, the agent and each registered family
// declare, and every literal name passed to os.Getenv or os.LookupEnv
// outside the tests.
func variablesRead(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for _, name := range variables() {
		vars[name] = true
	}
	_, files := agentGoFiles(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "os" {
				return true
			}
			// A computed name (X_FILE) is derived from the declared ones.
			if name, ok := stringLit(call.Args[0]); ok && strings.HasPrefix(name, config.Prefix) {
				vars[name] = true
			}
			return true
		})
	}
	return vars
}

// section returns the text of the markdown section that starts with the
// heading line, up to the next heading of the same or a higher level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("no %q heading", heading)
	}
	level := strings.Repeat("#", strings.Count(strings.Fields(heading)[0], "#"))
	rest := doc[i+len(heading)+2:]
	for _, l := range strings.SplitAfter(rest, "\n") {
		if strings.HasPrefix(l, "#") && strings.HasPrefix(l, level) && !strings.HasPrefix(l, level+"#") {
			return rest[:strings.Index(rest, l)]
		}
	}
	return rest
}

// tableFirstCells returns the first cell of every body row of the markdown
// tables in text whose header's first cell is header.
func tableFirstCells(text, header string) []string {
	var cells []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "|") {
			in = false
			continue
		}
		first := strings.TrimSpace(strings.Split(l, "|")[1])
		switch {
		case !in && first == header:
			in = true
		case in && strings.HasPrefix(first, "---"):
		case in:
			cells = append(cells, first)
		}
	}
	return cells
}

var sfbexVarRe = regexp.MustCompile(`SFBEX_[A-Z0-9_]*[A-Z0-9]`)

func TestConfigurationSummaryListsEveryVariable(t *testing.T) {
	read := variablesRead(t)
	summary := section(t, readDoc(t, "docs/configuration.md"), "## Summary")
	documented := map[string]bool{}
	for _, cell := range tableFirstCells(summary, "variable") {
		for _, v := range sfbexVarRe.FindAllString(cell, -1) {
			documented[v] = true
			if !read[v] {
				t.Errorf("docs/configuration.md summary: %s is a row but the agent does not read it (renamed or removed?)", v)
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(read)) {
		if !documented[v] {
			t.Errorf("docs/configuration.md summary: the agent reads %s but the table has no row for it", v)
		}
	}
	if len(documented) == 0 {
		t.Fatal("no variable rows found in the summary table")
	}
}

var faultNameRe = regexp.MustCompile("`([a-z0-9]+(?:-[a-z0-9]+)+)`")

func TestLabFaultsAreDocumented(t *testing.T) {
	known := map[string]bool{}
	for _, n := range lab.FaultNames() {
		known[n] = true
	}
	check := func(where string, named []string) {
		t.Helper()
		seen := map[string]bool{}
		for _, n := range named {
			seen[n] = true
			if !known[n] {
				t.Errorf("%s names lab fault %q, which the lab does not define", where, n)
			}
		}
		for _, n := range lab.FaultNames() {
			if !seen[n] {
				t.Errorf("%s does not name lab fault %q", where, n)
			}
		}
	}

	var table []string
	labSection := section(t, readDoc(t, "docs/configuration.md"), "### --lab, --lab.fault, --lab.interval")
	for _, cell := range tableFirstCells(labSection, "fault") {
		m := faultNameRe.FindStringSubmatch(cell)
		if m == nil || m[0] != cell {
			t.Errorf("docs/configuration.md fault table: first cell %q is not a `fault-name`", cell)
			continue
		}
		table = append(table, m[1])
	}
	check("docs/configuration.md's lab fault table", table)

	// The README's list: the paragraph that introduces it and its bullets.
	readme := readDoc(t, "README.md")
	i := strings.Index(readme, "switches faults on and off")
	if i < 0 {
		t.Fatal("README.md: no lab fault list (\"switches faults on and off\")")
	}
	list := readme[i:]
	if end := strings.Index(list, "\n\n- "); end >= 0 {
		if stop := strings.Index(list[end+2:], "\n\n"); stop >= 0 {
			list = list[:end+2+stop]
		}
	}
	var bullets []string
	for _, m := range faultNameRe.FindAllStringSubmatch(list, -1) {
		bullets = append(bullets, m[1])
	}
	check("README.md's lab fault list", bullets)
}

// metricsDefined lists the sfbex_* metrics the agent can expose: every
// prometheus.NewDesc and prometheus.*Opts in the agent's code, and what the
// registry /metrics serves holds.
func metricsDefined(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset, files := agentGoFiles(t)
	isProm := func(e ast.Expr, name func(string) bool) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		pkg, ok := sel.X.(*ast.Ident)
		return ok && pkg.Name == "prometheus" && name(sel.Sel.Name)
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if isProm(n.Fun, func(s string) bool { return s == "NewDesc" }) {
					name, ok := stringLit(n.Args[0])
					if !ok {
						t.Errorf("%s: prometheus.NewDesc with a computed name: use a string literal so the docs can be checked", fset.Position(n.Pos()))
					}
					names[name] = true
				}
			case *ast.CompositeLit:
				if !isProm(n.Type, func(s string) bool { return strings.HasSuffix(s, "Opts") }) {
					return true
				}
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch k := kv.Key.(*ast.Ident); k.Name {
					case "Namespace", "Subsystem":
						t.Errorf("%s: metric name built from %s: write the whole name so the docs can be checked", fset.Position(kv.Pos()), k.Name)
					case "Name":
						name, ok := stringLit(kv.Value)
						if !ok {
							t.Errorf("%s: metric with a computed name: use a string literal so the docs can be checked", fset.Position(kv.Pos()))
						}
						names[name] = true
					}
				}
			}
			return true
		})
	}
	mfs, err := newRegistry(collector.NewStore(nil), false).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for n := range names {
		if !strings.HasPrefix(n, "sfbex_") {
			delete(names, n)
		}
	}
	if !names["sfbex_probe_success"] || !names["sfbex_exporter_build_info"] {
		t.Fatalf("metric scan missed sfbex_probe_success or sfbex_exporter_build_info: %v", names)
	}
	return names
}

var (
	metricTokenRe = regexp.MustCompile(`\bsfbex_[a-z0-9_]*[a-z0-9_](\*?)`)
	metricNameRe  = regexp.MustCompile(`\bsfbex_[a-z0-9_]*[a-z0-9]\b`)
)

func TestMetricsDocMatchesTheCode(t *testing.T) {
	defined := metricsDefined(t)
	doc := readDoc(t, "docs/metrics.md")

	// Documented: named in a ### heading or in the first cell of a table
	// of metrics.
	documented := map[string]bool{}
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "### ") {
			for _, n := range metricNameRe.FindAllString(l, -1) {
				documented[n] = true
			}
		}
	}
	for _, cell := range tableFirstCells(doc, "metric") {
		for _, n := range metricNameRe.FindAllString(cell, -1) {
			documented[n] = true
		}
	}
	for _, n := range slices.Sorted(maps.Keys(defined)) {
		if !documented[n] {
			t.Errorf("docs/metrics.md does not document %s (no ### heading or metric table row names it)", n)
		}
	}

	// Every sfbex_ name anywhere in the doc must exist; `sfbex_x_*` must
	// match one.
	for _, m := range metricTokenRe.FindAllStringSubmatch(doc, -1) {
		tok, wildcard := strings.TrimSuffix(m[0], "*"), m[1] == "*"
		switch {
		case tok == "sfbex_exporter": // the program
		case wildcard:
			if !slices.ContainsFunc(slices.Collect(maps.Keys(defined)), func(n string) bool { return strings.HasPrefix(n, tok) }) {
				t.Errorf("docs/metrics.md: %s* matches no metric", tok)
			}
		case !defined[tok]:
			t.Errorf("docs/metrics.md names %s, which the agent does not define (renamed or removed?)", tok)
		}
	}
}
