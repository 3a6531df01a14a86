package e2e

// Grafana dashboards (dashboards/*.json): a lint of the conventions, an
// end-to-end run of every panel query against a real Prometheus scraping
// the lab, and (behind SFBEX_RENDER=1) a picture of the wall display.
//
//	go test -count=1 -run 'Dashboard' ./test/e2e                          # lint + every query on the lab
//	SFBEX_RENDER=1 go test -count=1 -run TestRenderOverview ./test/e2e   # docs/img/overview-*.png

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// domainMetricPrefixes are the metric name prefixes whose series carry a
// domain label: every selector of such a metric must filter by $domain.
// TestDashboardQueriesReturnDataOnTheLab checks this list against the lab.
// Certificate and probe metrics have no domain label (a certificate belongs
// to a source, a check to a target), so they do not follow $domain.
var domainMetricPrefixes = []string{
	"sfbex_dns_", "sfbex_autodiscover_", "sfbex_lyncdiscover_", "sfbex_ews_", "sfbex_tls_endpoint_info",
	"sfbex_directory_users", "sfbex_directory_sip_", "sfbex_sip_", "sfbex_exchange_",
}

// noDomainMetrics are the metrics under a domainMetricPrefixes prefix that
// carry no domain label, with the reason. Filtering one by $domain would
// empty its panels whenever a domain is picked. The lab test checks that
// they have no domain label.
var noDomainMetrics = map[string]string{
	"sfbex_ews_online_shutdown_timestamp_seconds":         "a dependency of the estate on Exchange Online (Skype for Business Server, Exchange hybrid), not of one email domain",
	"sfbex_exchange_server_build_info":                    "an Exchange server's own settings snapshot, which names the server, not an email domain",
	"sfbex_exchange_server_support_end_timestamp_seconds": "an Exchange server's own settings snapshot, which names the server, not an email domain",
}

// literalWindows lists the panels allowed a literal range window instead of
// $__rate_interval or $__range, with the reason. Everything else must use
// $__rate_interval (rates and per-interval changes) or $__range (totals
// over the dashboard's time range).
var literalWindows = map[string]string{
	"sfbex-overview.json/Answers changed (1 h)": "mirrors SfbexDNSDrift's 1 h window, so the wall display and the pager agree whatever time range the wall shows",
}

// faultOnlyQueries lists the queries (dashboard/panel title/refId) that
// return nothing on a healthy lab by design, with the lab fault that makes
// them return data. Everything else must return data on the healthy lab.
var faultOnlyQueries = map[string]string{
	// Lists the alerts firing now: none on a healthy lab. dns-drift fires
	// SfbexDNSDrift at once (no for:).
	"sfbex-overview.json/Alerts firing now/A": "dns-drift",
	// sfbex_cms_replica_behind_since_timestamp_seconds exists only while a
	// replica is out of date.
	"sfbex-cms.json/Replicas behind for/A": "cms-replica-stale",
	// The healthy lab's answers are 200 OK without ms-diagnostics.
	"sfbex-sip.json/ms-diagnostics of the last answers/A": "sip-federation-504",
	// The healthy lab's Exchange is on-premises: no dependency on EWS in
	// Exchange Online, so no countdown.
	"sfbex-overview.json/Exchange Online EWS off in/A":  "autodiscover-online",
	"sfbex-readiness.json/Exchange Online EWS off in/A": "autodiscover-online",
	"sfbex-readiness.json/EWS dependencies/A":           "autodiscover-online",
	"sfbex-readiness.json/EWS dependencies/B":           "autodiscover-online",
	// The healthy lab's EWS answers 401 with its challenges.
	"sfbex-readiness.json/EWS policy blocks/A": "ews-policy-blocked",
	// The healthy lab runs Exchange Subscription Edition, seen from outside
	// and in its snapshot, which has no end of support (Modern Lifecycle).
	"sfbex-readiness.json/Exchange builds/B": "exchange-out-of-support",
	// Subscription Edition has no support end: a 2015 Front End has one.
	"sfbex-readiness.json/Skype for Business builds/B": "sfb-out-of-support",
	// Only a staged roll has an effective date.
	"sfbex-readiness.json/OAuthTokenIssuer roll takes effect/A": "oauth-roll-late",
}

// wallUnits is how many grid units of the wall display fit a 1080p screen.
const wallUnits = 27

// dashboard is one file of dashboards/, decoded loosely.
type dashboard struct {
	file string
	raw  map[string]any
}

type panel map[string]any

func (p panel) str(k string) string { s, _ := p[k].(string); return s }

type target struct {
	RefID        string         `json:"refId"`
	Expr         string         `json:"expr"`
	LegendFormat string         `json:"legendFormat"`
	Datasource   map[string]any `json:"datasource"`
}

func (p panel) targets() []target {
	b, _ := json.Marshal(p["targets"])
	var ts []target
	json.Unmarshal(b, &ts)
	return ts
}

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(infra.ModuleRoot(t), "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards/*.json")
	}
	var out []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		out = append(out, dashboard{filepath.Base(f), raw})
	}
	return out
}

// panels returns every panel, those inside collapsed rows included.
func (d dashboard) panels() []panel {
	var out []panel
	var walk func(v any)
	walk = func(v any) {
		list, _ := v.([]any)
		for _, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			out = append(out, panel(m))
			walk(m["panels"])
		}
	}
	walk(d.raw["panels"])
	return out
}

// variables returns the templating variables by name.
func (d dashboard) variables() map[string]map[string]any {
	out := map[string]map[string]any{}
	tm, _ := d.raw["templating"].(map[string]any)
	list, _ := tm["list"].([]any)
	for _, x := range list {
		if v, ok := x.(map[string]any); ok {
			name, _ := v["name"].(string)
			out[name] = v
		}
	}
	return out
}

func variableQuery(v map[string]any) string {
	switch q := v["query"].(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	return ""
}

// --- a small PromQL scanner: enough to find selectors and range windows ---

type selector struct {
	name     string
	matchers string // inside the braces, "" when written without
	window   string // the range after it, [window]; "" for an instant selector
	call     string // the innermost function or aggregation around it; "" at the top or in plain parentheses
}

var promKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
}

var promAggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

// scanPromQL returns the metric selectors and the range windows ([...]) of
// an expression.
func scanPromQL(expr string) (sels []selector, windows []string) {
	i := 0
	var calls []string // one entry per open parenthesis: the function it calls, or ""
	pending := ""      // the function or aggregation whose argument list comes next
	call := func() string {
		if len(calls) == 0 {
			return ""
		}
		return calls[len(calls)-1]
	}
	skipString := func() {
		q := expr[i]
		i++
		for i < len(expr) && expr[i] != q {
			if expr[i] == '\\' {
				i++
			}
			i++
		}
		i++
	}
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	skipSpace := func() {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\n' || expr[i] == '\t') {
			i++
		}
	}
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			skipString()
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				windows = append(windows, expr[i+1:])
				return
			}
			windows = append(windows, expr[i+1:i+j])
			i += j + 1
		case c == '(':
			calls = append(calls, pending)
			pending = ""
			i++
		case c == ')':
			if len(calls) > 0 {
				calls = calls[:len(calls)-1]
			}
			i++
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.') {
				i++
			}
		case c == '{':
			// A selector without a metric name.
			start := i
			for i < len(expr) && expr[i] != '}' {
				if expr[i] == '"' {
					skipString()
					continue
				}
				i++
			}
			sels = append(sels, selector{matchers: expr[start+1 : min(i, len(expr))], call: call()})
			i++
		case isIdent(c, true):
			start := i
			for i < len(expr) && isIdent(expr[i], false) {
				i++
			}
			word := expr[start:i]
			skipSpace()
			if promAggregations[word] {
				pending = word
				continue // its by/without list and argument follow
			}
			if promKeywords[strings.ToLower(word)] {
				if i < len(expr) && expr[i] == '(' && word != "and" && word != "or" && word != "unless" {
					// A label list: skip it.
					if j := strings.IndexByte(expr[i:], ')'); j >= 0 {
						i += j + 1
					}
				}
				continue
			}
			if i < len(expr) && expr[i] == '(' {
				pending = word
				continue // a function or aggregation
			}
			s := selector{name: word, call: call()}
			if i < len(expr) && expr[i] == '{' {
				ms := i + 1
				for i < len(expr) && expr[i] != '}' {
					if expr[i] == '"' {
						skipString()
						continue
					}
					i++
				}
				s.matchers = expr[ms:min(i, len(expr))]
				i++
			}
			if j := i + len(expr[i:]) - len(strings.TrimLeft(expr[i:], " \n\t")); j < len(expr) && expr[j] == '[' {
				if k := strings.IndexByte(expr[j:], ']'); k >= 0 {
					s.window = expr[j+1 : j+k]
				}
			}
			sels = append(sels, s)
		default:
			i++
		}
	}
	return
}

// hasLinterMatcher reports whether matchers has label=~"$variable", the one form
// dashboard-linter's target-job-rule and target-instance-rule accept.
func hasLinterMatcher(matchers, label, variable string) bool {
	for _, m := range splitMatchers(matchers) {
		if m == label+`=~"$`+variable+`"` {
			return true
		}
	}
	return false
}

// splitMatchers splits the inside of a selector's braces at the commas
// outside quotes, spaces removed.
func splitMatchers(matchers string) []string {
	var out []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(matchers); i++ {
		c := matchers[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(matchers):
			cur.WriteByte(c)
			i++
			c = matchers[i]
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			out = append(out, cur.String())
			cur.Reset()
			continue
		case c == ' ' && !inQuote:
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func hasMatcher(matchers, label, variable string) bool {
	for _, form := range []string{
		label + `=~"$` + variable + `"`, label + `=~"${` + variable + `}"`,
		label + `=~"${` + variable + `:regex}"`, label + `="$` + variable + `"`,
	} {
		if strings.Contains(strings.ReplaceAll(matchers, " ", ""), form) {
			return true
		}
	}
	return false
}

func isDomainMetric(name string) bool {
	if _, ok := noDomainMetrics[name]; ok {
		return false
	}
	for _, p := range domainMetricPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// checkDatasources walks the whole JSON: every datasource reference is the
// ${datasource} variable (the built-in Grafana annotation excepted).
func checkDatasources(t *testing.T, file string, v any, path string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "datasource" {
				switch ds := val.(type) {
				case string:
					if ds != "${datasource}" && ds != "$datasource" {
						t.Errorf("%s %s: datasource %q, want the ${datasource} variable", file, path, ds)
					}
				case map[string]any:
					uid, _ := ds["uid"].(string)
					typ, _ := ds["type"].(string)
					if typ == "grafana" && uid == "-- Grafana --" {
						break
					}
					if uid != "${datasource}" || typ != "prometheus" {
						t.Errorf("%s %s: datasource %v, want {type: prometheus, uid: ${datasource}}", file, path, ds)
					}
				}
				continue
			}
			checkDatasources(t, file, val, path+"."+k)
		}
	case []any:
		for i, val := range x {
			checkDatasources(t, file, val, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func TestDashboardsLint(t *testing.T) {
	root := infra.ModuleRoot(t)
	metricsDoc, err := os.ReadFile(filepath.Join(root, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	standard := regexp.MustCompile(`^(up|scrape_[a-z_]+|ALERTS|go_[a-z_]+|process_[a-z_]+)$`)
	usedLiteral := map[string]bool{}
	for _, d := range loadDashboards(t) {
		f := d.file
		if sv, _ := d.raw["schemaVersion"].(float64); sv < 36 || sv > 41 {
			t.Errorf("%s: schemaVersion %v, want 36..41 (Grafana 10/11)", f, d.raw["schemaVersion"])
		}
		for _, k := range []string{"uid", "title", "description"} {
			if s, _ := d.raw[k].(string); s == "" {
				t.Errorf("%s: no %s", f, k)
			}
		}
		checkDatasources(t, f, d.raw, "")
		lintDashboard(t, d)

		vars := d.variables()
		if v := vars["datasource"]; v == nil || v["type"] != "datasource" || v["query"] != "prometheus" {
			t.Errorf("%s: no datasource variable of type prometheus: %v", f, v)
		}
		for name, mustFilter := range map[string][]string{"job": nil, "instance": {"job"}, "domain": {"job", "instance"}} {
			v := vars[name]
			if v == nil || v["type"] != "query" {
				t.Errorf("%s: no %s query variable", f, name)
				continue
			}
			q := variableQuery(v)
			if !strings.HasPrefix(q, "label_values(") {
				t.Errorf("%s: variable %s: query %q, want label_values(...)", f, name, q)
			}
			for _, dep := range mustFilter {
				if !strings.Contains(q, "$"+dep) {
					t.Errorf("%s: variable %s does not follow $%s: %q", f, name, dep, q)
				}
			}
		}

		ids := map[float64]bool{}
		titles := map[string]bool{}
		type rect struct {
			x, y, w, h int
			title      string
		}
		var rects []rect
		for _, p := range d.panels() {
			typ, title := p.str("type"), p.str("title")
			where := fmt.Sprintf("%s: panel %q", f, title)
			id, _ := p["id"].(float64)
			if ids[id] {
				t.Errorf("%s: duplicate id %v", where, id)
			}
			ids[id] = true
			if titles[title] {
				t.Errorf("%s: duplicate title", where)
			}
			titles[title] = true
			g, _ := p["gridPos"].(map[string]any)
			num := func(k string) int { v, _ := g[k].(float64); return int(v) }
			if g == nil || num("w") <= 0 || num("h") <= 0 || num("x")+num("w") > 24 {
				t.Errorf("%s: bad gridPos %v", where, g)
			} else {
				r := rect{num("x"), num("y"), num("w"), num("h"), title}
				for _, o := range rects {
					if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
						t.Errorf("%s overlaps %q", where, o.title)
					}
				}
				rects = append(rects, r)
			}
			if typ == "row" || typ == "text" {
				if len(p.targets()) > 0 {
					t.Errorf("%s: a %s panel with queries", where, typ)
				}
				continue
			}
			if p.str("description") == "" {
				t.Errorf("%s: no description", where)
			}
			fc, _ := p["fieldConfig"].(map[string]any)
			defs, _ := fc["defaults"].(map[string]any)
			if u, _ := defs["unit"].(string); u == "" {
				t.Errorf("%s: no unit (fieldConfig.defaults.unit)", where)
			} else if u == "d" {
				// Grafana scales "d" to weeks and years: 400 days read "1.10 year".
				t.Errorf(`%s: unit "d" shows days as weeks or years on a wall; use "none" and say days in the title`, where)
			}
			if f == "sfbex-overview.json" && typ == "stat" {
				th, _ := defs["thresholds"].(map[string]any)
				steps, _ := th["steps"].([]any)
				if len(steps) < 2 {
					t.Errorf("%s: a wall-display stat needs coloured thresholds, has %v", where, steps)
				}
			}
			ts := p.targets()
			if len(ts) == 0 {
				t.Errorf("%s: no queries", where)
			}
			for _, tg := range ts {
				tw := fmt.Sprintf("%s target %s", where, tg.RefID)
				if tg.Expr == "" {
					t.Errorf("%s: no expr", tw)
					continue
				}
				sels, windows := scanPromQL(tg.Expr)
				if len(sels) == 0 {
					t.Errorf("%s: no metric selector in %q", tw, tg.Expr)
				}
				for _, s := range sels {
					if s.name == "" {
						t.Errorf("%s: selector without a metric name in %q", tw, tg.Expr)
						continue
					}
					if !hasLinterMatcher(s.matchers, "job", "job") || !hasLinterMatcher(s.matchers, "instance", "instance") {
						t.Errorf("%s: %s{%s} is not filtered by job=~\"$job\" and instance=~\"$instance\" (dashboard-linter target-job-rule, target-instance-rule)", tw, s.name, s.matchers)
					}
					lintTargetSelector(t, tw, s)
					if isDomainMetric(s.name) && !hasMatcher(s.matchers, "domain", "domain") {
						t.Errorf("%s: %s has a domain label but is not filtered by domain=~\"$domain\"", tw, s.name)
					}
					if strings.HasPrefix(s.name, "sfbex_") && !documented(metricsDoc, s.name) {
						t.Errorf("%s: %s is not in docs/metrics.md (a metric that does not exist yet?)", tw, s.name)
					}
					if !strings.HasPrefix(s.name, "sfbex_") && !standard.MatchString(s.name) {
						t.Errorf("%s: unknown metric %s", tw, s.name)
					}
				}
				for _, w := range windows {
					switch w {
					case "$__rate_interval", "$__range":
					default:
						key := f + "/" + title
						if _, ok := literalWindows[key]; ok {
							usedLiteral[key] = true
							continue
						}
						t.Errorf("%s: range window [%s] in %q: use $__rate_interval or $__range, or justify it in literalWindows", tw, w, tg.Expr)
					}
				}
				if tg.Datasource == nil {
					t.Errorf("%s: no datasource", tw)
				}
			}
		}
		// The wall display is read on one screen: Grafana's grid unit is
		// 30 px high with 8 px between units, so 27 units (1018 px) fit a
		// 1080p screen in kiosk mode; 28 would not leave its padding.
		if bottom := slices.MaxFunc(rects, func(a, b rect) int { return cmp.Compare(a.y+a.h, b.y+b.h) }); f == "sfbex-overview.json" && bottom.y+bottom.h > wallUnits {
			t.Errorf("%s is %d grid units high (%q ends there): the wall display must fit one 1080p screen, at most %d units (%d px)",
				f, bottom.y+bottom.h, bottom.title, wallUnits, wallUnits*38-8)
		}
	}
	for key := range literalWindows {
		if !usedLiteral[key] {
			t.Errorf("literalWindows: %s is not used any more", key)
		}
	}
}

// documented reports whether docs/metrics.md names metric (a whole word:
// sfbex_sfb_build_info is not documented by sfbex_sfb_build_info_x).
func documented(doc []byte, metric string) bool {
	return regexp.MustCompile(`(^|[^a-z0-9_])` + metric + `([^a-z0-9_]|$)`).Match(doc)
}

func TestDashboardPromQLScanner(t *testing.T) {
	if sels, _ := scanPromQL(`count by (version) (b{job="x"}) * on(instance) group_left(role) c`); len(sels) != 2 || sels[0].name != "b" || sels[1].name != "c" {
		t.Errorf("scan of an aggregation with by: %+v", sels)
	}
	sels, windows := scanPromQL(`count(sfbex_a{job=~"$job",x="}"} == 0 and on(instance, job) sfbex_b) or vector(0) + rate(c_total{y="z"}[$__rate_interval]) * 3e2 > bool 1 unless d`)
	var names []string
	for _, s := range sels {
		names = append(names, s.name+"{"+s.matchers+"}")
	}
	if sels[2].window != "$__rate_interval" || sels[2].call != "rate" || sels[0].call != "count" || sels[1].call != "count" || sels[3].call != "" {
		t.Errorf("scan: windows and calls %+v", sels)
	}
	if sels, _ := scanPromQL(`sum by (x) (increase(a_total{y="z"} [1h])) / (b_total)`); len(sels) != 2 || sels[0].call != "increase" || sels[0].window != "1h" || sels[1].call != "" || sels[1].window != "" {
		t.Errorf("scan of a call inside an aggregation with by: %+v", sels)
	}
	want := []string{`sfbex_a{job=~"$job",x="}"}`, "sfbex_b{}", `c_total{y="z"}`, "d{}"}
	if !slices.Equal(names, want) || !slices.Equal(windows, []string{"$__rate_interval"}) {
		t.Errorf("scan: %q %q, want %q [$__rate_interval]", names, windows, want)
	}
}

// --- substitution: what Grafana sends to Prometheus ---

var varRe = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)`)

// expand substitutes the template variables as Grafana does: in a regex
// matcher (=~ or !~) the value is regex-escaped. Variables without a value
// in vars take their allValue (Grafana's "All").
func expand(expr string, vars map[string]string, allValues map[string]string) (string, error) {
	var missing []string
	var out strings.Builder
	last := 0
	for _, m := range varRe.FindAllStringSubmatchIndex(expr, -1) {
		name := ""
		for _, g := range []int{2, 6, 8} {
			if m[g] >= 0 {
				name = expr[m[g]:m[g+1]]
			}
		}
		out.WriteString(expr[last:m[0]])
		last = m[1]
		val, ok := vars[name]
		regexCtx := strings.HasSuffix(expr[:m[0]], `=~"`) || strings.HasSuffix(expr[:m[0]], `!~"`)
		if !ok {
			if av, ok2 := allValues[name]; ok2 {
				out.WriteString(av)
				continue
			}
			missing = append(missing, name)
			continue
		}
		if regexCtx && !strings.HasPrefix(name, "__") {
			val = strings.ReplaceAll(regexp.QuoteMeta(val), `\`, `\\`)
		}
		out.WriteString(val)
	}
	out.WriteString(expr[last:])
	if missing != nil {
		return "", fmt.Errorf("no value for %v", missing)
	}
	return out.String(), nil
}

// --- the Prometheus API, without failing the test on a bad query ---

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float() float64 {
	str, _ := s.Value[1].(string)
	f, _ := strconv.ParseFloat(str, 64)
	return f
}

// instantQuery runs expr through /api/v1/query and returns its samples (a
// scalar as one sample without labels).
func instantQuery(base, expr string) ([]promSample, error) {
	resp, err := http.Get(base + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%v: %s", err, body)
	}
	if env.Status != "success" {
		return nil, fmt.Errorf("%s", env.Error)
	}
	switch env.Data.ResultType {
	case "vector":
		var v []promSample
		err := json.Unmarshal(env.Data.Result, &v)
		return v, err
	case "scalar":
		var v [2]any
		err := json.Unmarshal(env.Data.Result, &v)
		return []promSample{{Value: v}}, err
	}
	return nil, fmt.Errorf("result type %s", env.Data.ResultType)
}

// labLab is one lab agent scraped by a real Prometheus with the shipped
// rules loaded (for: shortened, as in the alerts test).
type labLab struct {
	agent *infra.Agent
	prom  *infra.Prometheus
}

func startScrapedLab(t *testing.T) labLab {
	t.Helper()
	infra.Require(t, "prometheus", "promtool")
	a := infra.StartAgent(t, infra.BuildAgent(t), []string{"--lab", "--lab.interval=1s", "--log.level=warn"}, nil)
	config := "global: {scrape_interval: 1s, evaluation_interval: 1s}\n" +
		"rule_files: [\"*.rules.yml\"]\n" +
		"scrape_configs:\n  - job_name: sfbex\n    static_configs:\n" +
		fmt.Sprintf("      - targets: [%q]\n", a.Addr)
	p := infra.StartPrometheus(t, config, testRules(t, ""))
	// Every check of the lab has run and been scraped.
	waitUntil(t, 60*time.Second, "the lab's checks in Prometheus", func() bool {
		res, err := instantQuery(p.URL, `count(sfbex_probe_success{job="sfbex"})`)
		return err == nil && len(res) == 1 && res[0].float() >= 7
	})
	return labLab{a, p}
}

func (l labLab) vars() map[string]string {
	return map[string]string{
		"job": "sfbex", "instance": l.agent.Addr, "domain": "contoso.test",
		"__rate_interval": "1m", "__range": "5m", "__interval": "15s",
	}
}

func allValues(d dashboard) map[string]string {
	out := map[string]string{}
	for name, v := range d.variables() {
		if av, ok := v["allValue"].(string); ok && av != "" {
			out[name] = av
		}
	}
	return out
}

type panelQuery struct {
	key, expr string // key: dashboard/panel title/refId
}

func TestDashboardQueriesReturnDataOnTheLab(t *testing.T) {
	dashes := loadDashboards(t)
	lab := startScrapedLab(t)
	vars := lab.vars()

	// The domain-label list the lint uses matches what the agent exposes:
	// checked on the healthy lab and again with the faults on, which bring
	// series the healthy lab lacks (the EWS shutdown countdown).
	checkDomainLabels := func(phase string) {
		t.Helper()
		// The agent's own series: firing alerts copy their series' labels.
		res, err := instantQuery(lab.prom.URL, `count by (__name__) ({job="sfbex",domain=~".+",__name__=~"sfbex_.+"})`)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res {
			name := s.Metric["__name__"]
			if _, ok := noDomainMetrics[name]; ok {
				t.Errorf("%s: %s has a domain label; remove it from noDomainMetrics", phase, name)
			} else if !isDomainMetric(name) {
				t.Errorf("%s: %s has a domain label; add it to domainMetricPrefixes", phase, name)
			}
		}
	}
	checkDomainLabels("healthy lab")

	// Template variables: label_values(selector, label) as the label values API.
	lvRe := regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)
	for _, d := range dashes {
		for name, v := range d.variables() {
			q := variableQuery(v)
			if v["type"] != "query" {
				continue
			}
			m := lvRe.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: variable %s: cannot read %q", d.file, name, q)
				continue
			}
			sel, err := expand(m[1], vars, allValues(d))
			if err != nil {
				t.Errorf("%s: variable %s: %v", d.file, name, err)
				continue
			}
			var values []string
			lab.prom.API(t, "label/"+m[2]+"/values", url.Values{"match[]": {sel}}, &values)
			if len(values) == 0 {
				t.Errorf("%s: variable %s (%s) has no values on the lab", d.file, name, sel)
			}
			if want, ok := vars[name]; ok && !slices.Contains(values, want) {
				t.Errorf("%s: variable %s = %v, lacks %q", d.file, name, values, want)
			}
		}
	}

	var healthy, faulty []panelQuery
	for _, d := range dashes {
		for _, p := range d.panels() {
			for _, tg := range p.targets() {
				key := d.file + "/" + p.str("title") + "/" + tg.RefID
				expr, err := expand(tg.Expr, vars, allValues(d))
				if err != nil {
					t.Errorf("%s: %v", key, err)
					continue
				}
				if _, ok := faultOnlyQueries[key]; ok {
					faulty = append(faulty, panelQuery{key, expr})
				} else {
					healthy = append(healthy, panelQuery{key, expr})
				}
			}
		}
	}
	for key := range faultOnlyQueries {
		if !slices.ContainsFunc(faulty, func(q panelQuery) bool { return q.key == key }) {
			t.Errorf("faultOnlyQueries: %s is no panel query any more", key)
		}
	}
	t.Logf("%d queries on the healthy lab, %d with a fault on", len(healthy), len(faulty))

	// checkAll polls until every query returns data; a query Prometheus
	// rejects fails at once. Rates need two samples in their window, so the
	// first rounds may come back empty.
	checkAll := func(phase string, qs []panelQuery) {
		pending := slices.Clone(qs)
		lastErr := map[string]string{}
		deadline := time.Now().Add(60 * time.Second)
		for len(pending) > 0 {
			var next []panelQuery
			for _, q := range pending {
				res, err := instantQuery(lab.prom.URL, q.expr)
				switch {
				case err != nil:
					t.Errorf("%s: %s: Prometheus rejects %q: %v", phase, q.key, q.expr, err)
				case len(res) == 0:
					lastErr[q.key] = "no data"
					next = append(next, q)
				}
			}
			pending = next
			if len(pending) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		for _, q := range pending {
			t.Errorf("%s: %s: %s after 60 s: %s", phase, q.key, lastErr[q.key], q.expr)
		}
	}
	checkAll("healthy lab", healthy)

	faults := map[string]bool{}
	for _, f := range faultOnlyQueries {
		faults[f] = true
	}
	for f := range faults {
		setFault(t, lab.agent, f, true)
	}
	checkAll("faults on", faulty)
	checkDomainLabels("faults on")
	for name := range noDomainMetrics {
		if res, err := instantQuery(lab.prom.URL, fmt.Sprintf(`count({__name__=%q,job="sfbex"})`, name)); err != nil || len(res) == 0 {
			t.Errorf("faults on: no %s, so nothing showed it has no domain label (%v)", name, err)
		}
	}
}

// --- the wall display as a picture ---

// TestRenderOverview renders dashboards/sfbex-overview.json from the
// Prometheus API into an HTML page laid out by the panels' gridPos, with
// the stats coloured by their thresholds, and screenshots it with headless
// Chromium: once on the healthy lab, once with renderFaults on. Grafana is
// not in Debian, so this stands in for a Grafana screenshot. Run with
//
//	SFBEX_RENDER=1 go test -count=1 -run TestRenderOverview ./test/e2e
//
// It writes docs/img/overview-healthy.png and overview-faults.png (or into
// SFBEX_RENDER_DIR), and the HTML pages beside the test's temp dir.
func TestRenderOverview(t *testing.T) {
	if os.Getenv("SFBEX_RENDER") == "" {
		t.Skip("set SFBEX_RENDER=1 to render docs/img/overview-*.png")
	}
	chromium, err := infra.LookPath("chromium")
	if err != nil {
		t.Skipf("no chromium: %v", err)
	}
	outDir := os.Getenv("SFBEX_RENDER_DIR")
	if outDir == "" {
		outDir = filepath.Join(infra.ModuleRoot(t), "docs", "img")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var over dashboard
	for _, d := range loadDashboards(t) {
		if d.file == "sfbex-overview.json" {
			over = d
		}
	}
	if over.raw == nil {
		t.Fatal("no dashboards/sfbex-overview.json")
	}
	lab := startScrapedLab(t)
	// Let the rate windows fill and the first rule evaluations pass.
	time.Sleep(10 * time.Second)
	shot := func(name string) {
		page := renderDashboard(t, over, lab.prom.URL, lab.vars())
		htmlPath := filepath.Join(t.TempDir(), name+".html")
		if err := os.WriteFile(htmlPath, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		png := filepath.Join(outDir, name+".png")
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--hide-scrollbars", "--user-data-dir="+t.TempDir(), fmt.Sprintf("--window-size=1920,%d", pageHeight(over)),
			"--screenshot="+png, "file://"+htmlPath)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
		if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
			t.Fatalf("no screenshot %s: %v", png, err)
		}
		t.Logf("wrote %s", png)
	}
	shot("overview-healthy")

	for _, f := range renderFaults {
		setFault(t, lab.agent, f, true)
	}
	waitUntil(t, 90*time.Second, "the faults' alerts firing", func() bool {
		firing := map[string]bool{}
		for _, a := range lab.prom.Alerts(t) {
			if a.State == "firing" {
				firing[a.Labels["alertname"]] = true
			}
		}
		for _, want := range renderFaultAlerts {
			if !firing[want] {
				return false
			}
		}
		return true
	})
	shot("overview-faults")
}

// renderFaults are the faults of the second picture, and renderFaultAlerts
// the alerts it waits for before taking it.
var (
	renderFaults      = []string{"dns-missing", "directory-sip-stripped", "ews-no-oauth", "tls-expired", "autodiscover-online", "exchange-out-of-support"}
	renderFaultAlerts = []string{"SfbexDNSRecordMissing", "SfbexTLSCertificateExpired", "SfbexEWSNoOAuth", "SfbexEWSOnlineShutdownNear", "SfbexExchangeOutOfSupport"}
)

// grafanaColors maps the named colours the dashboards use to Grafana's
// dark-theme values.
var grafanaColors = map[string]string{
	"green": "#73BF69", "dark-green": "#37872D", "orange": "#FF9830", "dark-orange": "#FA6400",
	"red": "#F2495C", "dark-red": "#C4162A", "blue": "#5794F2", "dark-blue": "#1F60C4",
	"yellow": "#FADE2A", "text": "#CCCCDC", "transparent": "transparent",
}

func colorOf(name string) string {
	if c, ok := grafanaColors[name]; ok {
		return c
	}
	return name
}

// thresholdColor returns the colour of the highest step at or below v.
func thresholdColor(defs map[string]any, v float64) string {
	th, _ := defs["thresholds"].(map[string]any)
	steps, _ := th["steps"].([]any)
	c := "text"
	for _, s := range steps {
		st, _ := s.(map[string]any)
		sv, isNum := st["value"].(float64)
		if !isNum || v >= sv {
			c, _ = st["color"].(string)
		}
	}
	return colorOf(c)
}

// mapped applies value mappings as Grafana does, the first that matches:
// value (the exact text), range (from and to inclusive, either open when
// absent) and special null (raw "": no value at all). It returns the text
// and, when given, the colour.
func mapped(mappings any, raw string) (text, color string, ok bool) {
	list, _ := mappings.([]any)
	result := func(o map[string]any) (string, string, bool) {
		text, _ := o["text"].(string)
		color, _ := o["color"].(string)
		return text, color, true
	}
	v, numErr := strconv.ParseFloat(raw, 64)
	for _, m := range list {
		mm, _ := m.(map[string]any)
		opts, _ := mm["options"].(map[string]any)
		switch mm["type"] {
		case "value":
			if o, found := opts[raw].(map[string]any); found && raw != "" {
				return result(o)
			}
		case "range":
			if raw == "" || numErr != nil {
				continue
			}
			if from, ok := opts["from"].(float64); ok && v < from {
				continue
			}
			if to, ok := opts["to"].(float64); ok && v > to {
				continue
			}
			o, _ := opts["result"].(map[string]any)
			return result(o)
		case "special":
			if raw == "" && opts["match"] == "null" {
				o, _ := opts["result"].(map[string]any)
				return result(o)
			}
		}
	}
	return "", "", false
}

func formatValue(defs map[string]any, v float64) string {
	decimals := -1
	if d, ok := defs["decimals"].(float64); ok {
		decimals = int(d)
	}
	num := func() string {
		if decimals >= 0 {
			return strconv.FormatFloat(v, 'f', decimals, 64)
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	unit, _ := defs["unit"].(string)
	switch {
	case strings.HasPrefix(unit, "suffix:"):
		return num() + strings.TrimPrefix(unit, "suffix:")
	case unit == "s":
		// Like Grafana's "seconds" unit: the largest unit that keeps the number above 1.
		for _, u := range []struct {
			name string
			secs float64
		}{{" day", 86400}, {" hour", 3600}, {" min", 60}} {
			if math.Abs(v) >= u.secs {
				return strconv.FormatFloat(v/u.secs, 'f', 1, 64) + u.name
			}
		}
		return strconv.FormatFloat(v, 'f', 2, 64) + " s"
	case unit == "percentunit":
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	}
	return num()
}

func legend(format string, labels map[string]string) string {
	return regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`).ReplaceAllStringFunc(format, func(s string) string {
		return labels[strings.Trim(s, "{} ")]
	})
}

var mdBold = regexp.MustCompile(`\*\*(.+?)\*\*`)

func markdown(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line = mdBold.ReplaceAllString(html.EscapeString(line), "<b>$1</b>")
		if h, ok := strings.CutPrefix(line, "### "); ok {
			fmt.Fprintf(&b, "<h3>%s</h3>", h)
		} else if line != "" {
			fmt.Fprintf(&b, "<p>%s</p>", line)
		}
	}
	return b.String()
}

// Grafana's grid: 38 px per row (30 px cells plus 8 px margins) below a
// 50 px header.
const renderRowH, renderTop = 38, 50

// pageHeight is the height of the whole dashboard in pixels, at least a
// 1080 px screen: a wall display longer than the screen is drawn whole, so
// the picture shows what scrolls below the fold too.
func pageHeight(d dashboard) int {
	rows := 0
	for _, p := range d.panels() {
		g, _ := p["gridPos"].(map[string]any)
		y, _ := g["y"].(float64)
		h, _ := g["h"].(float64)
		rows = max(rows, int(y+h))
	}
	return max(1080, renderTop+rows*renderRowH+8)
}

// renderDashboard lays the panels out on a 1920 px wide page (24 columns,
// 38 px per grid row: Grafana's 30 px cells plus 8 px margins) and fills them
// from the Prometheus API.
func renderDashboard(t *testing.T, d dashboard, promURL string, vars map[string]string) string {
	t.Helper()
	const width, colW, rowH, top = 1920, 1920.0 / 24, renderRowH, renderTop
	var b strings.Builder
	title, _ := d.raw["title"].(string)
	fmt.Fprintf(&b, `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;color:#ccccdc;font-family:"DejaVu Sans",Arial,sans-serif;width:%dpx;height:%dpx;overflow:hidden}
.hdr{height:%dpx;display:flex;align-items:center;justify-content:space-between;padding:0 16px;font-size:22px;box-sizing:border-box}
.hdr small{font-size:15px;color:#8e8e9e}
.p{position:absolute;box-sizing:border-box;background:#181b1f;border:1px solid #2a2d33;border-radius:3px;overflow:hidden;display:flex;flex-direction:column}
.pt{font-size:19px;font-weight:600;padding:5px 8px 0 8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#e6e6ee}
.pb{flex:1;display:flex;gap:4px;padding:6px;min-height:0}
.cell{flex:1;display:flex;flex-direction:column;align-items:center;justify-content:center;border-radius:3px;color:#fff;font-weight:700;min-width:0}
.cell .n{font-size:18px;font-weight:600;opacity:.9}
.row{position:absolute;font-size:20px;font-weight:600;color:#e6e6ee;border-bottom:1px solid #2a2d33;box-sizing:border-box;padding:6px 6px 0 6px}
.txt{padding:2px 12px;font-size:16px;border:1px dashed #8e8e9e;background:#1c1f25}
.txt h3{margin:4px 0;font-size:19px;color:#FF9830}.txt p{margin:2px 0}
table{border-collapse:collapse;width:100%%;font-size:17px}th{text-align:left;color:#8ab8ff;font-weight:600;border-bottom:1px solid #2a2d33;padding:1px 6px}
td{padding:1px 6px;border-bottom:1px solid #22252b}
.nodata{color:#8e8e9e;font-size:22px;margin:auto}
</style></head><body>
<div class="hdr"><span>%s</span><small>rendered from the Prometheus API by test/e2e/dashboards_test.go · %s</small></div>
`, width, pageHeight(d), top, html.EscapeString(title), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	av := allValues(d)
	for _, p := range d.panels() {
		g, _ := p["gridPos"].(map[string]any)
		x, y, w, h := g["x"].(float64), g["y"].(float64), g["w"].(float64), g["h"].(float64)
		pos := fmt.Sprintf("left:%.0fpx;top:%.0fpx;width:%.0fpx;height:%.0fpx", x*colW+3, y*rowH+top+3, w*colW-6, h*rowH-6)
		ptitle := html.EscapeString(p.str("title"))
		switch p.str("type") {
		case "row":
			fmt.Fprintf(&b, `<div class="row" style="%s">%s</div>`+"\n", pos, ptitle)
			continue
		case "text":
			opts, _ := p["options"].(map[string]any)
			content, _ := opts["content"].(string)
			fmt.Fprintf(&b, `<div class="p txt" style="%s">%s</div>`+"\n", pos, markdown(content))
			continue
		}
		fc, _ := p["fieldConfig"].(map[string]any)
		defs, _ := fc["defaults"].(map[string]any)
		var cells []statCell
		for _, tg := range p.targets() {
			expr, err := expand(tg.Expr, vars, av)
			if err != nil {
				t.Fatal(err)
			}
			res, err := instantQuery(promURL, expr)
			if err != nil {
				t.Fatalf("%s: %v", p.str("title"), err)
			}
			for _, s := range res {
				cells = append(cells, statCell{legend(tg.LegendFormat, s.Metric), s})
			}
		}
		fmt.Fprintf(&b, `<div class="p" style="%s"><div class="pt">%s</div><div class="pb">`, pos, ptitle)
		bodyH := h*rowH - 6 - 34 - 12
		if len(cells) == 0 {
			// Grafana's "no data": a null mapping or noValue, coloured by the
			// mapping or else the base threshold (it reduces nothing to null).
			txt, col, ok := mapped(defs["mappings"], "")
			if nv, _ := defs["noValue"].(string); !ok && nv != "" {
				txt, ok = nv, true
			}
			if ok && p.str("type") == "stat" {
				if col == "" {
					col = thresholdColor(defs, math.Inf(-1))
				} else {
					col = colorOf(col)
				}
				size := math.Min(bodyH*0.55, (w*colW-6-12)*0.92/(0.72*float64(max(len([]rune(txt)), 1))))
				fmt.Fprintf(&b, `<div class="cell" style="background:%s"><div style="font-size:%.0fpx;line-height:1.1;white-space:nowrap">%s</div></div>`, col, size, html.EscapeString(txt))
			} else {
				b.WriteString(`<div class="nodata">No data</div>`)
			}
		}
		switch p.str("type") {
		case "stat":
			cellW := (w*colW - 6 - 12) / float64(max(len(cells), 1))
			for _, c := range cells {
				v := c.sample.float()
				raw, _ := c.sample.Value[1].(string)
				txt, col, ok := mapped(defs["mappings"], raw)
				if !ok {
					txt = formatValue(defs, v)
				}
				if col == "" {
					col = thresholdColor(defs, v)
				} else {
					col = colorOf(col)
				}
				// As big as the cell allows, like Grafana's auto-sized stat text.
				size := math.Min(bodyH*0.55, cellW*0.92/(0.72*float64(max(len([]rune(txt)), 1))))
				if c.name != "" {
					size = math.Min(size, bodyH*0.45)
				}
				fmt.Fprintf(&b, `<div class="cell" style="background:%s">`, col)
				if c.name != "" {
					fmt.Fprintf(&b, `<div class="n">%s</div>`, html.EscapeString(c.name))
				}
				fmt.Fprintf(&b, `<div style="font-size:%.0fpx;line-height:1.1;white-space:nowrap">%s</div></div>`, size, html.EscapeString(txt))
			}
		case "table":
			var rows []promSample
			for _, c := range cells {
				rows = append(rows, c.sample)
			}
			renderTable(&b, p, rows)
		default:
			for _, c := range cells {
				fmt.Fprintf(&b, `<div>%s %s</div>`, html.EscapeString(c.name), formatValue(defs, c.sample.float()))
			}
		}
		b.WriteString("</div></div>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// statCell is one value of a panel: a series and its legend.
type statCell struct {
	name   string
	sample promSample
}

// renderTable draws an instant table: label columns and the value, renamed
// and hidden by the panel's organize transformation, severity cells
// coloured by the panel's value mappings.
func renderTable(b *strings.Builder, p panel, rows []promSample) {
	if len(rows) == 0 {
		return
	}
	exclude, rename := map[string]bool{}, map[string]string{}
	trs, _ := p["transformations"].([]any)
	for _, tr := range trs {
		m, _ := tr.(map[string]any)
		if m["id"] != "organize" {
			continue
		}
		opts, _ := m["options"].(map[string]any)
		ex, _ := opts["excludeByName"].(map[string]any)
		for k, v := range ex {
			exclude[k] = v == true
		}
		rn, _ := opts["renameByName"].(map[string]any)
		for k, v := range rn {
			rename[k], _ = v.(string)
		}
	}
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r.Metric {
			if !seen[k] && !exclude[k] && k != "__name__" {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	cols = append(cols, "Value")
	header := func(c string) string {
		if r := rename[c]; r != "" {
			return r
		}
		return c
	}
	// Colour mappings from the overrides, by displayed column name.
	colMappings := map[string]any{}
	fc, _ := p["fieldConfig"].(map[string]any)
	ovs, _ := fc["overrides"].([]any)
	for _, o := range ovs {
		om, _ := o.(map[string]any)
		matcher, _ := om["matcher"].(map[string]any)
		name, _ := matcher["options"].(string)
		props, _ := om["properties"].([]any)
		for _, pr := range props {
			pm, _ := pr.(map[string]any)
			if pm["id"] == "mappings" {
				colMappings[name] = pm["value"]
			}
		}
	}
	// The panel's sortBy (by displayed column name), then the labels.
	sortCol, sortDesc := "", false
	opts, _ := p["options"].(map[string]any)
	if sb, _ := opts["sortBy"].([]any); len(sb) > 0 {
		m, _ := sb[0].(map[string]any)
		name, _ := m["displayName"].(string)
		sortDesc, _ = m["desc"].(bool)
		for _, c := range cols {
			if header(c) == name {
				sortCol = c
			}
		}
	}
	cell := func(r promSample, c string) string {
		if c == "Value" {
			v, _ := r.Value[1].(string)
			return v
		}
		return r.Metric[c]
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := cell(rows[i], sortCol), cell(rows[j], sortCol)
		if sortCol != "" && a != b {
			return (a < b) != sortDesc
		}
		return fmt.Sprint(rows[i].Metric) < fmt.Sprint(rows[j].Metric)
	})
	b.WriteString("<table><tr>")
	for _, c := range cols {
		fmt.Fprintf(b, "<th>%s</th>", html.EscapeString(header(c)))
	}
	b.WriteString("</tr>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range cols {
			v := cell(r, c)
			style := ""
			if _, col, ok := mapped(colMappings[header(c)], v); ok && col != "" {
				style = fmt.Sprintf(` style="background:%s;color:#fff;font-weight:600"`, colorOf(col))
			}
			fmt.Fprintf(b, "<td%s>%s</td>", style, html.EscapeString(v))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
}

// The picture applies value mappings as Grafana does: the first that
// matches, value by its text, range with open ends, special null for no data.
func TestRenderValueMappings(t *testing.T) {
	var mappings any
	err := json.Unmarshal([]byte(`[
		{"type": "value", "options": {"1": {"text": "UP", "color": "green"}}},
		{"type": "range", "options": {"to": 0, "result": {"text": "EWS OFF", "color": "red"}}},
		{"type": "range", "options": {"from": 100, "to": 200, "result": {"text": "FAR"}}},
		{"type": "special", "options": {"match": "null", "result": {"text": "NO DEPENDENCY", "color": "dark-green"}}}
	]`), &mappings)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		raw, text, color string
		ok               bool
	}{
		{"1", "UP", "green", true},
		{"0", "EWS OFF", "red", true},
		{"-3.5", "EWS OFF", "red", true},
		{"0.5", "", "", false},
		{"100", "FAR", "", true},
		{"200.5", "", "", false},
		{"", "NO DEPENDENCY", "dark-green", true},
	} {
		text, color, ok := mapped(mappings, c.raw)
		if text != c.text || color != c.color || ok != c.ok {
			t.Errorf("mapped(%q) = %q, %q, %v; want %q, %q, %v", c.raw, text, color, ok, c.text, c.color, c.ok)
		}
	}
}
