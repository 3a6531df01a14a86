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
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Result is what one probe run learned about its target. Probe families
// define their own typed results; the collector renders them.
type Result interface {
	// Findings lists what is wrong with the estate, as seen by this run.
	// A healthy target has none.
	Findings() []Finding
	// AppendMetrics appends the result's own series to ms (its family's
	// metrics.go): called once when the result arrives, never on a scrape.
	AppendMetrics(ms []prometheus.Metric) []prometheus.Metric
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

// Walk runs fn for each of n members of a list that one run walks under
// one deadline (documents, endpoints, discovery methods), at most parallel
// at once. Each member gets its own deadline: an equal share of the time
// ctx has left, so that one member that hangs cannot use the time of the
// others, which complete and are reported. limit, when positive, caps a
// share (a per-request timeout); a tenth of the time left is kept for the
// run to judge and report what its members found.
//
// fn receives the member's context and its share, to say "timed out after
// <share>" (see MemberErr). Walk returns when every fn has.
func Walk(ctx context.Context, n, parallel int, limit time.Duration, fn func(ctx context.Context, i int, share time.Duration)) {
	if n <= 0 {
		return
	}
	parallel = max(1, min(parallel, n))
	share := limit
	if dl, ok := ctx.Deadline(); ok {
		rounds := (n + parallel - 1) / parallel
		s := time.Until(dl) * 9 / 10 / time.Duration(rounds)
		if share <= 0 || s < share {
			share = s
		}
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			mctx, cancel := ctx, context.CancelFunc(func() {})
			if share > 0 {
				mctx, cancel = context.WithTimeout(ctx, share)
			}
			defer cancel()
			fn(mctx, i, share)
		}()
	}
	wg.Wait()
}

// MemberErr says that a member's own share of the run's time ran out, when
// it did, so that the error names the slow member and not the run: mctx is
// the member's context from Walk, parent the run's.
func MemberErr(mctx, parent context.Context, share time.Duration, err error) error {
	if err == nil || parent.Err() != nil || !errors.Is(mctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return WithFix(fmt.Errorf("timed out after %s, its share of the run's time: %w", share.Round(time.Millisecond), err),
		"It answers too slowly or not at all, so it was given up to let the rest of the check complete: find out why it hangs (the server, a firewall that drops packets), or raise the family's timeout.")
}
