package collector

import (
	"github.com/sfbex/sfbex_exporter/probes"
)

// State is a check's condition in one word. It is derived in one place,
// Entry.State, and every surface shows that word: the status page's badge
// and header counts, /api/checks, `sfbex_exporter check` and the
// sfbex_probe_state metric.
type State string

// The states, from the worst: a known critical problem in the estate; no
// data at all; data that is older than the latest run; data the latest run
// saw only in part; a warning; no run yet; nothing wrong.
const (
	StateCritical State = "critical" // the data shown has a critical finding
	StateFailed   State = "failed"   // the latest run failed and no run has ever returned data
	StateStale    State = "stale"    // the latest run failed; the data shown comes from an earlier run
	StatePartial  State = "partial"  // the latest run failed part-way; the data shown is what it saw
	StateWarning  State = "warning"  // the data shown has a warning finding
	StatePending  State = "pending"  // no run has completed yet
	StateOK       State = "ok"       // the latest run succeeded and found nothing worse than info
)

// States lists every state, worst first: the status page sorts and counts
// by it, and sfbex_probe_state has one series for each (but pending, which
// has no series: nothing is exported before a check's first run).
var States = []State{StateCritical, StateFailed, StateStale, StatePartial, StateWarning, StatePending, StateOK}

// Rank orders states for sorting: higher is worse.
func (s State) Rank() int {
	for i, x := range States {
		if x == s {
			return len(States) - i
		}
	}
	return 0
}

// Failed reports whether a check in this state makes `sfbex_exporter check`
// fail: every state but ok.
func (s State) Failed() bool { return s != StateOK }

// DataAge says where the data a check shows comes from.
type DataAge string

const (
	DataNone    DataAge = "none"    // no run has returned any data
	DataLatest  DataAge = "latest"  // the latest run, which succeeded
	DataPartial DataAge = "partial" // the latest run, which failed part-way: the parts it missed keep an earlier run's values where there were any
	DataEarlier DataAge = "earlier" // an earlier run: the latest one learned nothing
)

// Data says where the data the entry shows comes from.
func (e *Entry) Data() DataAge {
	switch {
	case e.Shown == nil:
		return DataNone
	case e.Latest.Err == nil:
		return DataLatest
	case e.Latest.Result != nil:
		return DataPartial
	default:
		return DataEarlier
	}
}

// State derives the entry's state: the worst condition that applies, in
// the order of States. A critical finding outranks a failed run, because
// the last thing known about the estate is that it is broken; a failed run
// outranks a warning, because the estate may have got worse unseen.
func (e *Entry) State() State {
	if e.Runs == 0 {
		return StatePending
	}
	worst := probes.Info
	if e.Shown != nil {
		worst = probes.Worst(e.Shown.Findings())
	}
	if worst >= probes.Critical {
		return StateCritical
	}
	switch e.Data() {
	case DataNone:
		return StateFailed
	case DataEarlier:
		return StateStale
	case DataPartial:
		return StatePartial
	}
	if worst >= probes.Warning {
		return StateWarning
	}
	return StateOK
}
