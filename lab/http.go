package lab

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// Handler serves the fault switches:
//
//	GET  /lab                       a page with a button per fault
//	GET  /lab/faults                JSON: every fault and whether it is on
//	POST /lab/faults/<name>?on=true switch a fault on (on=false: off)
//	POST /lab/faults/reset          switch every fault off
//
// The agent mounts it only in lab mode.
func (l *Lab) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lab", l.page)
	mux.HandleFunc("GET /lab/faults", func(w http.ResponseWriter, r *http.Request) {
		type state struct {
			Fault
			On bool `json:"on"`
		}
		var out []state
		for _, f := range Faults {
			out = append(out, state{f, l.On(f.Name)})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /lab/faults/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if name == "reset" {
			for _, n := range l.Active() {
				_ = l.Set(n, false)
			}
		} else {
			on := true
			if v := r.FormValue("on"); v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					http.Error(w, "on must be true or false", http.StatusBadRequest)
					return
				}
				on = b
			}
			if err := l.Set(name, on); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
		}
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/lab", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"active": l.Active()})
	})
	return mux
}

func (l *Lab) page(w http.ResponseWriter, r *http.Request) {
	type row struct {
		Fault
		On bool
	}
	var rows []row
	for _, f := range Faults {
		rows = append(rows, row{f, l.On(f.Name)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = labTmpl.Execute(w, rows)
}

var labTmpl = template.Must(template.New("lab").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sfbex lab faults</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em}td,th{padding:.3em .6em;text-align:left;border-bottom:1px solid #ddd}
.on{color:#c62828;font-weight:bold}</style></head><body>
<h1>Lab faults (contoso.test)</h1>
<p>Switch a fault on, then watch <a href="/">the status page</a> and <a href="/metrics">/metrics</a> after the next run of the affected checks.
<form method="post" action="/lab/faults/reset" style="display:inline"><button>switch all off</button></form></p>
<table><tr><th>Fault</th><th>Family</th><th>What it does</th><th>State</th><th></th></tr>
{{range .}}<tr><td><code>{{.Name}}</code></td><td>{{.Family}}</td><td>{{.Description}}</td>
<td>{{if .On}}<span class="on">ON</span>{{else}}off{{end}}</td>
<td><form method="post" action="/lab/faults/{{.Name}}?on={{if .On}}false{{else}}true{{end}}"><button>{{if .On}}switch off{{else}}switch on{{end}}</button></form></td></tr>
{{end}}</table></body></html>
`))
