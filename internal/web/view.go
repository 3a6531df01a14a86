package web

import (
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/probes"
)

// CheckView is one check as the status page, /api/checks and the `check`
// report show it.
type CheckView struct {
	ID     string `json:"id"`
	Probe  string `json:"probe"`
	Target string `json:"target"`
	// collector.State is the check's condition (see collector.States); Data says where the
	// data shown comes from, and DataFrom when that run started.
	State           collector.State   `json:"state"`
	Data            collector.DataAge `json:"data"`
	DataFrom        *time.Time        `json:"data_from,omitempty"`
	Stale           bool              `json:"stale"`
	Runs            uint64            `json:"runs"`
	Failures        uint64            `json:"failures"`
	LastRun         *time.Time        `json:"last_run,omitempty"`
	LastSuccess     *time.Time        `json:"last_success,omitempty"`
	DurationSeconds float64           `json:"duration_seconds"`
	Error           string            `json:"error,omitempty"`
	Fix             string            `json:"fix,omitempty"`
	Findings        []probes.Finding  `json:"findings"`
	// Details are the result in short lines for people.
	Details []string `json:"details,omitempty"`
	// Result is the family's typed result, for tools.
	Result probes.Result `json:"result"`
}

// Detailer is implemented by results that can describe themselves in short
// lines for the status page and `check --verbose`.
type Detailer interface {
	Details() []string
}

// Views builds the views of entries.
func Views(entries []collector.Entry) []CheckView {
	out := make([]CheckView, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		v := CheckView{
			ID: e.Check.ID(), Probe: e.Check.Probe, Target: e.Check.Target,
			State: e.State(), Data: e.Data(), Stale: e.Stale, Runs: e.Runs, Failures: e.Failures,
			DurationSeconds: e.Latest.Duration.Seconds(),
			Findings:        []probes.Finding{},
			Result:          e.Shown,
		}
		if e.Runs > 0 {
			t := e.Latest.Start
			v.LastRun = &t
		}
		if e.Shown != nil {
			t := e.ShownAt
			v.DataFrom = &t
		}
		if !e.LastSuccess.IsZero() {
			t := e.LastSuccess
			v.LastSuccess = &t
		}
		if e.Latest.Err != nil {
			v.Error = e.Latest.Err.Error()
			v.Fix = probes.FixOf(e.Latest.Err)
		}
		if e.Shown != nil {
			v.Findings = append(v.Findings, e.Shown.Findings()...)
			if d, ok := e.Shown.(Detailer); ok {
				v.Details = d.Details()
			}
		}
		out = append(out, v)
	}
	return out
}

// Failed reports whether the view counts as failed for `check`: any state
// but ok.
func (v CheckView) Failed() bool { return v.State.Failed() }
