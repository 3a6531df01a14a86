// Package probes holds what every probe family shares: the result contract
// between protocol code (probes/<family>) and the collector that turns
// results into metrics, the status page and the `check` report.
//
// A probe run returns what it could learn (a Result) and an error that says
// what failed. Both may be set: a DNS run where one resolver timed out still
// reports the other resolver's answers. A nil Result with an error means the
// run learned nothing, and the collector keeps showing the last good Result,
// marked stale.
package probes

import (
	"fmt"
	"strings"
)

// Result is what one probe run learned about its target. Probe families
// define their own typed results; the collector renders them.
type Result interface {
	// Findings lists what is wrong with the estate, as seen by this run.
	// A healthy target has none.
	Findings() []Finding
}

// Severity ranks a finding. Warning and Critical make `sfbex_exporter check`
// fail; Info does not.
type Severity int

const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	default:
		return "info"
	}
}

// MarshalText makes severities readable in /api/checks.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// A Finding is one thing wrong with the estate, in words an admin can act on.
type Finding struct {
	Severity Severity `json:"severity"`
	// Subject names what the finding is about, e.g. "lyncdiscover.contoso.com A (resolver internal)".
	Subject string `json:"subject"`
	// Problem says what is wrong, in plain words.
	Problem string `json:"problem"`
	// Fix says what to do about it.
	Fix string `json:"fix"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s", f.Severity, f.Subject, f.Problem)
}

// fixError is an error that knows what the admin should do about it.
type fixError struct {
	err error
	fix string
}

func (e *fixError) Error() string { return e.err.Error() }
func (e *fixError) Unwrap() error { return e.err }

// WithFix attaches advice to err. The advice shows on the status page and in
// the `check` report next to the error.
func WithFix(err error, fix string) error {
	if err == nil {
		return nil
	}
	return &fixError{err: err, fix: fix}
}

// FixOf returns the advice attached to err (or to any error joined into it),
// one piece per line, or "" when there is none.
func FixOf(err error) string {
	var fixes []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*fixError); ok && !seen[fe.fix] {
			seen[fe.fix] = true
			fixes = append(fixes, fe.fix)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return strings.Join(fixes, "\n")
}

// Worst returns the highest severity among fs; Info when there is none.
func Worst(fs []Finding) Severity {
	w := Info
	for _, f := range fs {
		w = max(w, f.Severity)
	}
	return w
}

// Failing reports whether a run with these findings should count as failed
// for `sfbex_exporter check`: it has a warning or worse.
func Failing(fs []Finding) bool { return Worst(fs) >= Warning }
