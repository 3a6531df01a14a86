package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
)

// surfaces is what every surface says about one check.
type surfaces struct {
	page, api, report string
	metric            []string // states whose sfbex_probe_state series is 1
}

func readSurfaces(t *testing.T, s *collector.Store, reg *prometheus.Registry, c *probes.Check) surfaces {
	t.Helper()
	var out surfaces
	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	row := regexp.MustCompile(`(?s)<tr id="` + regexp.QuoteMeta(c.ID()) + `">.*?</tr>`).FindString(rec.Body.String())
	if m := regexp.MustCompile(`class="state st-(\w+)">(\w+)<`).FindStringSubmatch(row); m != nil && m[1] == m[2] {
		out.page = m[1]
	} else {
		t.Fatalf("no consistent badge in the row of %s: %q", c.ID(), row)
	}

	rec = httptest.NewRecorder()
	APIChecks(s).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks?id="+c.ID(), nil))
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	out.api, _ = v["state"].(string)

	var sb strings.Builder
	WriteReport(&sb, Views(s.Entries()), false)
	head := fmt.Sprintf("] %-12s %s  ", c.Probe, c.Target)
	for _, line := range strings.Split(sb.String(), "\n") {
		if _, rest, ok := strings.Cut(line, head); ok {
			out.report = strings.Fields(rest)[0]
		}
	}
	for _, st := range collector.States {
		if st == collector.StatePending {
			continue
		}
		if promtest.Value(t, reg, "sfbex_probe_state", map[string]string{"probe": c.Probe, "target": c.Target, "state": string(st)}) == 1 {
			out.metric = append(out.metric, string(st))
		}
	}
	return out
}

func finding(sev probes.Severity) probes.Finding {
	return probes.Finding{Severity: sev, Subject: "tls.contoso.test:443", Problem: "the certificate expired", Fix: "renew it"}
}

// Every surface shows the state derived in one place, for every state.
func TestOneStateOnEverySurface(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	fail := probes.WithFix(errors.New("tls.contoso.test:443: i/o timeout"), "check the firewall")
	for _, tc := range []struct {
		name  string
		runs  []collector.Run
		want  collector.State
		stale float64
		data  collector.DataAge
	}{
		{"ok", []collector.Run{{Result: &fakeResult{}}}, collector.StateOK, 0, collector.DataLatest},
		{"info only", []collector.Run{{Result: &fakeResult{findings: []probes.Finding{finding(probes.Info)}}}}, collector.StateOK, 0, collector.DataLatest},
		{"warning", []collector.Run{{Result: &fakeResult{findings: []probes.Finding{finding(probes.Warning)}}}}, collector.StateWarning, 0, collector.DataLatest},
		{"expired critical certificate", []collector.Run{{Result: &fakeResult{findings: []probes.Finding{finding(probes.Warning), finding(probes.Critical)}}}}, collector.StateCritical, 0, collector.DataLatest},
		{"never returned data", []collector.Run{{Err: fail}, {Err: fail}}, collector.StateFailed, 0, collector.DataNone},
		{"first run partial", []collector.Run{{Result: &fakeResult{}, Err: fail}}, collector.StatePartial, 0, collector.DataPartial},
		{"partial after data", []collector.Run{{Result: &fakeResult{}}, {Result: &fakeResult{}, Err: fail}}, collector.StatePartial, 1, collector.DataPartial},
		{"stale", []collector.Run{{Result: &fakeResult{findings: []probes.Finding{finding(probes.Warning)}}}, {Err: fail}}, collector.StateStale, 1, collector.DataEarlier},
		{"stale critical", []collector.Run{{Result: &fakeResult{findings: []probes.Finding{finding(probes.Critical)}}}, {Err: fail}}, collector.StateCritical, 1, collector.DataEarlier},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &probes.Check{Probe: "tls", Target: "endpoints", Interval: time.Minute, Timeout: time.Second}
			s := collector.NewStore([]*probes.Check{c})
			reg := promtest.Registry(collector.NewCollector(s))
			for i, r := range tc.runs {
				r.Start, r.Duration = t0.Add(time.Duration(i)*time.Minute), time.Second
				s.Record(c.ID(), r)
			}
			e := s.Entries()[0]
			if got := e.State(); got != tc.want {
				t.Fatalf("state = %s, want %s", got, tc.want)
			}
			if got := e.Data(); got != tc.data {
				t.Errorf("data = %s, want %s", got, tc.data)
			}
			got := readSurfaces(t, s, reg, c)
			want := surfaces{page: string(tc.want), api: string(tc.want), report: string(tc.want), metric: []string{string(tc.want)}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("surfaces = %+v, want %+v", got, want)
			}
			if v := promtest.Value(t, reg, "sfbex_probe_stale", map[string]string{"probe": "tls"}); v != tc.stale {
				t.Errorf("sfbex_probe_stale = %v, want %v", v, tc.stale)
			}
		})
	}
}

// A check that never returned data says so: no "last good data" that
// never existed, on the page, in the API, in `check`, in the metrics.
func TestNeverSucceededCheckClaimsNoData(t *testing.T) {
	c := &probes.Check{Probe: "oauth", Target: "exchange", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{c})
	reg := promtest.Registry(collector.NewCollector(s))
	s.Record(c.ID(), collector.Run{Start: time.Now(), Duration: time.Second, Err: errors.New("https://mail.contoso.test/metadata/json/1: timed out")})

	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	for _, bad := range []string{"last good", "showing data"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page says %q for a check that never returned data", bad)
		}
	}
	if !strings.Contains(page, "no data: no run has returned any yet") {
		t.Error("the page does not say that there is no data")
	}
	v := Views(s.Entries())[0]
	if v.State != collector.StateFailed || v.Data != collector.DataNone || v.Stale || v.DataFrom != nil || v.LastSuccess != nil {
		t.Errorf("view = state %s data %s stale %v from %v last success %v", v.State, v.Data, v.Stale, v.DataFrom, v.LastSuccess)
	}
	var sb strings.Builder
	WriteReport(&sb, []CheckView{v}, false)
	if !strings.Contains(sb.String(), "no data: no run has returned any yet") {
		t.Errorf("check report does not say there is no data:\n%s", sb.String())
	}
	l := map[string]string{"probe": "oauth", "target": "exchange"}
	if st := promtest.Value(t, reg, "sfbex_probe_stale", l); st != 0 {
		t.Errorf("sfbex_probe_stale = %v for a check that never had data", st)
	}
	if _, ok := promtest.Lookup(t, reg, "sfbex_probe_last_success_timestamp_seconds", l); ok {
		t.Error("a last success timestamp for a check that never succeeded")
	}
	l["state"] = "failed"
	if st := promtest.Value(t, reg, "sfbex_probe_state", l); st != 1 {
		t.Errorf(`sfbex_probe_state{state="failed"} = %v, want 1`, st)
	}
}

// The header counts exactly the badges below it.
func TestHeaderCountsMatchBadges(t *testing.T) {
	var checks []*probes.Check
	runs := map[string][]collector.Run{}
	add := func(target string, rs ...collector.Run) {
		c := &probes.Check{Probe: "fake", Target: target, Interval: time.Minute, Timeout: time.Second}
		checks = append(checks, c)
		runs[c.ID()] = rs
	}
	crit := &fakeResult{findings: []probes.Finding{finding(probes.Critical)}}
	add("a", collector.Run{Result: crit})
	add("b", collector.Run{Result: crit})
	add("c", collector.Run{Err: errors.New("down")})
	add("d", collector.Run{Result: &fakeResult{findings: []probes.Finding{finding(probes.Warning)}}})
	add("e", collector.Run{Result: &fakeResult{}})
	add("f")
	s := collector.NewStore(checks)
	for id, rs := range runs {
		for _, r := range rs {
			s.Record(id, r)
		}
	}
	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	badges := map[string]int{}
	for _, m := range regexp.MustCompile(`<span class="state st-(\w+)">`).FindAllStringSubmatch(page, -1) {
		badges[m[1]]++
	}
	header := map[string]int{}
	for _, m := range regexp.MustCompile(`<span class="count" data-state="(\w+)">(\d+) (\w+)</span>`).FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[2])
		header[m[1]] = n
	}
	want := map[string]int{"critical": 2, "failed": 1, "warning": 1, "ok": 1, "pending": 1}
	if fmt.Sprint(badges) != fmt.Sprint(want) || fmt.Sprint(header) != fmt.Sprint(want) {
		t.Fatalf("badges %v, header %v, want both %v", badges, header, want)
	}
	if !strings.Contains(page, "6 checks: ") {
		t.Error("the header does not give the number of checks")
	}
}

// WCAG 2 contrast ratio of two #rgb or #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	lum := func(c string) float64 {
		h := strings.TrimPrefix(c, "#")
		if len(h) == 3 {
			h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
		}
		if len(h) != 6 {
			t.Fatalf("colour %q is not #rgb or #rrggbb", c)
		}
		var ch [3]float64
		for i := range ch {
			v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				t.Fatalf("colour %q: %v", c, err)
			}
			x := float64(v) / 255
			if x <= 0.03928 {
				ch[i] = x / 12.92
			} else {
				ch[i] = math.Pow((x+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func TestContrastHelper(t *testing.T) {
	// Known values: black on white is 21:1, white on #ef6c00 about 3.08:1.
	if c := contrast(t, "#000", "#fff"); math.Abs(c-21) > 0.01 {
		t.Fatalf("black on white = %.2f", c)
	}
	if c := contrast(t, "#fff", "#ef6c00"); math.Abs(c-3.08) > 0.01 {
		t.Fatalf("white on #ef6c00 = %.2f", c)
	}
}

// Every badge and every coloured text on the status page reaches WCAG AA
// for normal text (4.5:1). The colours are read from the page's own style
// sheet, so a new state without a passing colour fails here.
func TestStatusPageColoursPassWCAGAA(t *testing.T) {
	s := collector.NewStore(nil)
	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test", Lab: true}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	css := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(rec.Body.String())
	if css == nil {
		t.Fatal("no style sheet")
	}
	rules := map[string]map[string]string{}
	for _, m := range regexp.MustCompile(`([^{}]+)\{([^}]*)\}`).FindAllStringSubmatch(css[1], -1) {
		decls := map[string]string{}
		for _, d := range strings.Split(m[2], ";") {
			if k, v, ok := strings.Cut(d, ":"); ok {
				decls[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		for _, sel := range strings.Split(m[1], ",") {
			rules[strings.TrimSpace(sel)] = decls
		}
	}
	prop := func(sel, p string) string {
		v := rules[sel][p]
		if v == "" {
			t.Fatalf("%s has no %s in the style sheet", sel, p)
		}
		return v
	}
	page := prop("body", "background")
	type pair struct{ what, fg, bg string }
	pairs := []pair{
		{"body text", prop("body", "color"), page},
		{"lab banner", prop(".lab", "color"), prop(".lab", "background")},
		{"what to do", prop(".fix", "color"), page},
		{"data note", prop(".data", "color"), page},
		{"details link", prop("details summary", "color"), page},
	}
	for _, st := range collector.States {
		pairs = append(pairs, pair{"badge " + string(st), prop(".state", "color"), prop(".st-"+string(st), "background")})
	}
	for _, sev := range []probes.Severity{probes.Info, probes.Warning, probes.Critical} {
		pairs = append(pairs, pair{"severity " + sev.String(), prop(".sev-"+sev.String(), "color"), page})
	}
	for _, p := range pairs {
		if c := contrast(t, p.fg, p.bg); c < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f:1, below WCAG AA 4.5:1", p.what, p.fg, p.bg, c)
		} else {
			t.Logf("%s: %s on %s: %.2f:1", p.what, p.fg, p.bg, c)
		}
	}
}
