package e2e

// Grafana's dashboard-linter rules (github.com/grafana/dashboard-linter, run
// with --strict, where its warnings are errors), restated here because its
// module cannot be fetched in CI. Each check names the rule it stands for.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/docs"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// grafanaUnits are the units Grafana knows (its value formats, as listed by
// dashboard-linter's panel-units-rule). A unit outside the list, such as
// "suffix: days", is shown as a raw number with text after it.
var grafanaUnits = strings.Fields(`none string short percent percentunit humidity dB hex0x hex sci locale pixel
accMS2 accFS2 accG degree radian grad arcmin arcsec areaM2 areaF2 areaMI2
flops mflops gflops tflops pflops eflops zflops yflops
ppm conppb conngm3 conngNm3 conμgm3 conμgNm3 conmgm3 conmgNm3 congm3 congNm3 conmgdL conmmolL
bytes decbytes bits decbits kbytes deckbytes mbytes decmbytes gbytes decgbytes tbytes dectbytes pbytes decpbytes
pps binBps Bps binbps bps KiBs Kibits KBs Kbits MiBs Mibits MBs Mbits GiBs Gibits GBs Gbits TiBs Tibits TBs Tbits PiBs Pibits PBs Pbits
dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow
hertz ns µs ms s m h d dtdurationms dtdurations dthms dtdhms timeticks clockms clocks
cps ops reqps rps wps iops cpm opm rpm wpm mps mpm
bool bool_yes_no bool_on_off`)

// The panel types some of the linter's panel rules apply to.
var (
	unitPanelTypes       = []string{"stat", "singlestat", "graph", "table-old", "timeseries", "gauge"}
	datasourcePanelTypes = []string{"singlestat", "graph", "table-old", "timeseries"}
)

var templateQueryRe = regexp.MustCompile(`^([a-z_]+)\((.+)\)$`)

func lintDashboard(t *testing.T, d dashboard) {
	t.Helper()
	f := d.file
	// uneditable-dashboard
	if e, _ := d.raw["editable"].(bool); e {
		t.Errorf("%s: editable is true, want false (dashboard-linter uneditable-dashboard)", f)
	}
	vars := d.variables()
	// template-datasource-rule: one data source variable, named and labelled as Grafana's own.
	var dsVars []map[string]any
	for _, v := range vars {
		if v["type"] == "datasource" {
			dsVars = append(dsVars, v)
		}
	}
	if len(dsVars) != 1 {
		t.Errorf("%s: %d data source variables, want 1 (template-datasource-rule)", f, len(dsVars))
	}
	for _, v := range dsVars {
		if v["name"] != "datasource" || v["label"] != "Data source" {
			t.Errorf("%s: data source variable %v labelled %v, want datasource labelled \"Data source\" (template-datasource-rule)", f, v["name"], v["label"])
		}
	}
	// template-job-rule, template-instance-rule
	for _, name := range []string{"job", "instance"} {
		v := vars[name]
		if v == nil {
			t.Errorf("%s: no %s variable (template-%s-rule)", f, name, name)
			continue
		}
		where := fmt.Sprintf("%s: variable %s", f, name)
		ds, _ := v["datasource"].(map[string]any)
		if uid, _ := ds["uid"].(string); uid != "$datasource" && uid != "${datasource}" {
			t.Errorf("%s: data source %v, want ${datasource} (template-%s-rule)", where, v["datasource"], name)
		}
		if v["type"] != "query" {
			t.Errorf("%s: type %v, want query (template-%s-rule)", where, v["type"], name)
		}
		if label := strings.ToUpper(name[:1]) + name[1:]; v["label"] != label {
			t.Errorf("%s: labelled %q, want %q (template-%s-rule)", where, v["label"], label, name)
		}
		if m, _ := v["multi"].(bool); !m {
			t.Errorf("%s: not multi-select (template-%s-rule)", where, name)
		}
		if v["allValue"] != ".+" {
			t.Errorf("%s: allValue %q, want \".+\" (template-%s-rule)", where, v["allValue"], name)
		}
	}
	for name, v := range vars {
		if v["type"] != "query" {
			continue
		}
		where := fmt.Sprintf("%s: variable %s", f, name)
		// template-on-time-change-reload-rule
		if r, _ := v["refresh"].(float64); r != 2 {
			t.Errorf("%s: refresh %v, want 2 (on time range change) (template-on-time-change-reload-rule)", where, v["refresh"])
		}
		// template-label-promql-rule
		m := templateQueryRe.FindStringSubmatch(variableQuery(v))
		if m == nil || !slices.Contains([]string{"label_names", "label_values", "metrics", "query_result"}, m[1]) {
			t.Errorf("%s: query %q is not label_names, label_values, metrics or query_result(...) (template-label-promql-rule)", where, variableQuery(v))
		}
	}

	for _, p := range d.panels() {
		typ, title := p.str("type"), p.str("title")
		where := fmt.Sprintf("%s: panel %q", f, title)
		// panel-title-description-rule
		if slices.Contains(unitPanelTypes, typ) && (title == "" || p.str("description") == "") {
			t.Errorf("%s: no title or description (panel-title-description-rule)", where)
		}
		// panel-datasource-rule
		if slices.Contains(datasourcePanelTypes, typ) {
			ds, _ := p["datasource"].(map[string]any)
			if uid, _ := ds["uid"].(string); uid != "$datasource" && uid != "${datasource}" {
				t.Errorf("%s: data source %v, want ${datasource} (panel-datasource-rule)", where, p["datasource"])
			}
		}
		// panel-units-rule: a unit Grafana knows, unless value mappings or a
		// non-numeric field (a stat showing a label) make units moot.
		if slices.Contains(unitPanelTypes, typ) && !panelUnitExempt(p) {
			if u := panelUnit(p); !slices.Contains(grafanaUnits, u) {
				t.Errorf("%s: unit %q is none Grafana knows (panel-units-rule)", where, u)
			}
		}
		// panel-no-targets-rule
		if typ != "row" && typ != "text" && len(p.targets()) == 0 {
			t.Errorf("%s: no queries (panel-no-targets-rule)", where)
		}
	}
}

// panelUnit is the unit an override sets, else the default one.
func panelUnit(p panel) string {
	fc, _ := p["fieldConfig"].(map[string]any)
	overrides, _ := fc["overrides"].([]any)
	unit := ""
	for _, o := range overrides {
		om, _ := o.(map[string]any)
		props, _ := om["properties"].([]any)
		for _, pr := range props {
			prm, _ := pr.(map[string]any)
			if prm["id"] == "unit" {
				unit, _ = prm["value"].(string)
			}
		}
	}
	if unit == "" {
		defs, _ := fc["defaults"].(map[string]any)
		unit, _ = defs["unit"].(string)
	}
	return unit
}

func panelUnitExempt(p panel) bool {
	fc, _ := p["fieldConfig"].(map[string]any)
	defs, _ := fc["defaults"].(map[string]any)
	if m, _ := defs["mappings"].([]any); len(m) > 0 {
		return true
	}
	if p.str("type") == "stat" {
		opts, _ := p["options"].(map[string]any)
		ro, _ := opts["reduceOptions"].(map[string]any)
		if fields, _ := ro["fields"].(string); fields != "" && fields != "/^.*$/" {
			return true
		}
	}
	return false
}

// lintTargetSelector applies the linter's rules on one selector of a query.
func lintTargetSelector(t *testing.T, where string, s selector) {
	t.Helper()
	// target-counter-agg-rule: a counter is read through rate, irate or increase.
	if strings.HasSuffix(s.name, "_total") && (s.window == "" || !slices.Contains([]string{"rate", "irate", "increase"}, s.call)) {
		t.Errorf("%s: counter %s is not aggregated with rate, irate or increase (target-counter-agg-rule)", where, s.name)
	}
	// target-rate-interval-rule
	if s.window != "" && s.window != "$__rate_interval" && (s.call == "rate" || s.call == "irate") {
		t.Errorf("%s: %s(%s[%s]): rate and irate use $__rate_interval (target-rate-interval-rule)", where, s.call, s.name, s.window)
	}
	if s.window == "$__rate_interval" && s.call == "" {
		t.Errorf("%s: %s[$__rate_interval] outside a function (target-rate-interval-rule)", where, s.name)
	}
}

// Every wall-display tile opens the dashboard that explains it: a link to a
// dashboard that queries the tile's sfbex_ metrics, keeping the time range
// and the job, instance and domain picked.
func TestOverviewTilesLinkToTheirDashboard(t *testing.T) {
	byUID := map[string]dashboard{}
	var overview *dashboard
	for _, d := range loadDashboards(t) {
		uid, _ := d.raw["uid"].(string)
		byUID[uid] = d
		if d.file == "sfbex-overview.json" {
			overview = &d
		}
	}
	if overview == nil {
		t.Fatal("no sfbex-overview.json")
	}
	linkRe := regexp.MustCompile(`^/d/([a-z0-9-]+)(/[a-z0-9-]*)?\?(.*)$`)
	tiles := 0
	for _, p := range overview.panels() {
		if p.str("type") != "stat" {
			continue
		}
		tiles++
		where := fmt.Sprintf("sfbex-overview.json: tile %q", p.str("title"))
		links, _ := p["links"].([]any)
		if len(links) != 1 {
			t.Errorf("%s: %d links, want 1 to its detail dashboard", where, len(links))
			continue
		}
		l, _ := links[0].(map[string]any)
		url, _ := l["url"].(string)
		m := linkRe.FindStringSubmatch(url)
		if m == nil {
			t.Errorf("%s: link %q is not /d/<uid>?...", where, url)
			continue
		}
		target, ok := byUID[m[1]]
		if !ok || m[1] == "sfbex-overview" {
			t.Errorf("%s: link to %q, which is no detail dashboard", where, m[1])
			continue
		}
		for _, param := range []string{"${__url_time_range}", "${job:queryparam}", "${instance:queryparam}", "${domain:queryparam}"} {
			if !strings.Contains(m[3], param) {
				t.Errorf("%s: link %q does not keep %s", where, url, param)
			}
		}
		if s, _ := l["title"].(string); s == "" {
			t.Errorf("%s: link without a title", where)
		}
		var targetQueries strings.Builder
		for _, tp := range target.panels() {
			for _, tg := range tp.targets() {
				targetQueries.WriteString(tg.Expr + "\n")
			}
		}
		for _, tg := range p.targets() {
			sels, _ := scanPromQL(tg.Expr)
			for _, s := range sels {
				if strings.HasPrefix(s.name, "sfbex_") && !strings.Contains(targetQueries.String(), s.name) {
					t.Errorf("%s: links to %s, which does not show %s", where, target.file, s.name)
				}
			}
		}
	}
	if tiles == 0 {
		t.Fatal("no tiles on the overview")
	}
}

// Every runbook link of a dashboard (the readiness dashboard's text points
// at the agent's /runbooks) names a section docs/runbooks.md has.
func TestDashboardRunbookLinks(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(infra.ModuleRoot(t), "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			sections[docs.Anchor(h)] = true
		}
	}
	linkRe := regexp.MustCompile(`/runbooks#([A-Za-z0-9_-]+)`)
	links := 0
	for _, d := range loadDashboards(t) {
		b, _ := json.Marshal(d.raw)
		for _, m := range linkRe.FindAllStringSubmatch(string(b), -1) {
			links++
			if !sections[m[1]] {
				t.Errorf("%s: link to /runbooks#%s, which is no section of docs/runbooks.md", d.file, m[1])
			}
		}
	}
	if links == 0 {
		t.Error("no dashboard links to a runbook section")
	}
}
