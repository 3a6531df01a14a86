package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
)

// PageInfo is what the status page shows besides the checks.
type PageInfo struct {
	Version string
	Lab     bool // show the lab banner and link to the fault switches
}

// StatusPage serves the human status page: every check with its state,
// last success, error and what to do, findings, and recent runs.
func StatusPage(store *collector.Store, info PageInfo) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		views := Views(store.Entries())
		sort.SliceStable(views, func(i, j int) bool { return views[i].State.Rank() > views[j].State.Rank() })
		data := struct {
			PageInfo
			Now    time.Time
			Checks []CheckView
			Counts []StateCount
			Recent []collector.RecentRun
		}{info, time.Now(), views, CountStates(views), store.Recent()}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := statusTmpl.Execute(w, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

// StateCount is how many checks are in a state.
type StateCount struct {
	State collector.State
	N     int
}

// CountStates counts the views by state, worst first, leaving out states
// no check is in: the status page's header, so that it says exactly what
// the badges below it say.
func CountStates(views []CheckView) []StateCount {
	n := map[collector.State]int{}
	for _, v := range views {
		n[v.State]++
	}
	var out []StateCount
	for _, s := range collector.States {
		if n[s] > 0 {
			out = append(out, StateCount{s, n[s]})
		}
	}
	return out
}

// APIChecks serves the same data as the status page as JSON. ?id= selects one check.
func APIChecks(store *collector.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		views := Views(store.Entries())
		if id := r.URL.Query().Get("id"); id != "" {
			for _, v := range views {
				if v.ID == id {
					writeJSON(w, v)
					return
				}
			}
			http.Error(w, "no check with id "+id+"; GET /api/checks lists them", http.StatusNotFound)
			return
		}
		writeJSON(w, views)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return "never"
	}
	return now.Sub(*t).Truncate(time.Second).String() + " ago"
}

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago":      ago,
	"dataNote": DataNote,
	"ms": func(s float64) string {
		return time.Duration(s * float64(time.Second)).Truncate(time.Millisecond).String()
	},
	"dur":      func(d time.Duration) string { return d.Truncate(time.Millisecond).String() },
	"ts":       func(t time.Time) string { return t.UTC().Format("15:04:05Z") },
	"runbook":  RunbookFor,
	"linkDocs": linkDocs,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sfbex_exporter</title>
<meta http-equiv="refresh" content="30">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em} table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f4f4f4}
.state{font-weight:bold;padding:.1em .5em;border-radius:.3em;color:#fff;white-space:nowrap}
.st-critical{background:#c62828}.st-failed{background:#455a64}.st-stale{background:#6d4c41}.st-partial{background:#1565c0}
.st-warning{background:#a84300}.st-pending{background:#616161}.st-ok{background:#2e7d32}
.sev-critical{color:#c62828;font-weight:bold}.sev-warning{color:#a84300;font-weight:bold}.sev-info{color:#555}
.lab{background:#6a1b9a;color:#fff;padding:.6em 1em;border-radius:.3em;margin-bottom:1em}
.fix{color:#1b5e20} .data{color:#555;font-size:.85em} pre{margin:0;white-space:pre-wrap}
details summary{cursor:pointer;color:#1565c0}
</style></head><body>
{{if .Lab}}<div class="lab"><b>LAB MODE</b>: these checks run against the simulated estate for contoso.test, not a real deployment. <a style="color:#fff" href="/lab">Inject faults</a>.</div>{{end}}
<h1>sfbex_exporter</h1>
<p>Version {{.Version}} · {{len .Checks}} checks{{range $i, $c := .Counts}}{{if $i}},{{else}}:{{end}} <span class="count" data-state="{{$c.State}}">{{$c.N}} {{$c.State}}</span>{{end}} · <a href="/metrics">metrics</a> · <a href="/api/checks">JSON</a> · <a href="/runbooks">runbooks</a> · <a href="/docs/metrics">metrics reference</a> · <a href="/docs/configuration">configuration reference</a></p>
<table><tr><th>collector.State</th><th>Check</th><th>Last success</th><th>Took</th><th>What is wrong, and what to do</th></tr>
{{range .Checks}}<tr id="{{.ID}}">
<td><span class="state st-{{.State}}">{{.State}}</span>{{if and (ne .State "pending") (ne .Data "latest")}}<div class="data">{{dataNote $.Now .}}</div>{{end}}</td>
<td><b>{{.Probe}}</b> {{.Target}}{{if and (ne .State "ok") (ne .State "pending")}}<div class="data"><a href="{{runbook .Probe}}">runbook</a></div>{{end}}</td>
<td>{{ago $.Now .LastSuccess}}</td>
<td>{{ms .DurationSeconds}}</td>
<td>{{if .Error}}<pre>Error: {{.Error}}</pre>{{if .Fix}}<pre class="fix">What to do: {{linkDocs .Fix}}</pre>{{end}}{{end}}
{{range .Findings}}<div><span class="sev-{{.Severity}}">{{.Severity}}</span> {{.Subject}}: {{.Problem}}{{if .Fix}}<div class="fix">What to do: {{linkDocs .Fix}}</div>{{end}}</div>{{end}}
{{if and (not .Error) (not .Findings) (ne .State "pending")}}nothing wrong{{end}}
{{if .Details}}<details><summary>details</summary><pre>{{range .Details}}{{.}}
{{end}}</pre></details>{{end}}</td></tr>
{{end}}</table>
<h2>Recent runs</h2>
<table><tr><th>Start</th><th>Check</th><th>Took</th><th>Error</th></tr>
{{range .Recent}}<tr><td>{{ts .Start}}</td><td><a href="#{{.ID}}">{{.ID}}</a></td><td>{{dur .Duration}}</td><td>{{.Error}}</td></tr>{{end}}
</table></body></html>
`))

// DataNote says in words where the data a view shows comes from, as the
// status page and `check` print it under the state.
func DataNote(now time.Time, v CheckView) string {
	switch v.Data {
	case collector.DataNone:
		return "no data: no run has returned any yet"
	case collector.DataEarlier:
		return "showing data from the run at " + v.DataFrom.UTC().Format("15:04:05Z") + " (" + ago(now, v.DataFrom) + "): the latest run learned nothing"
	case collector.DataPartial:
		if v.Stale {
			return "the latest run failed part-way: showing what it saw, and earlier values for what it missed"
		}
		return "the latest run failed part-way: showing what it saw"
	}
	return "data from the latest run"
}
