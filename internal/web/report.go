package web

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/plural"
)

// WriteReport prints the views for people, as `sfbex_exporter check` does,
// and returns how many checks failed. verbose adds each result's details.
func WriteReport(w io.Writer, views []CheckView, verbose bool) (failed int) {
	now := time.Now()
	for _, v := range views {
		mark := " OK "
		if v.Failed() {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "[%s] %-12s %s  %s  (%.0f ms)\n", mark, v.Probe, v.Target, v.State, v.DurationSeconds*1000)
		switch v.State {
		case collector.StatePending:
			fmt.Fprintf(w, "       did not complete\n")
		case collector.StateOK:
		default:
			if v.Data != collector.DataLatest {
				fmt.Fprintf(w, "       %s\n", DataNote(now, v))
			}
		}
		if v.Error != "" {
			fmt.Fprintf(w, "       error: %s\n", indent(v.Error, "              "))
			if v.Fix != "" {
				fmt.Fprintf(w, "       what to do: %s\n", indent(v.Fix, "                   "))
			}
		}
		for _, f := range v.Findings {
			fmt.Fprintf(w, "       %-8s %s: %s\n", f.Severity, f.Subject, f.Problem)
			if f.Fix != "" {
				fmt.Fprintf(w, "                what to do: %s\n", f.Fix)
			}
		}
		if verbose {
			for _, d := range v.Details {
				fmt.Fprintf(w, "         %s\n", d)
			}
		}
	}
	fmt.Fprintf(w, "\n%s, %d failed", plural.Count(len(views), "check", "checks"), failed)
	for i, c := range CountStates(views) {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(w, "%s%d %s", sep, c.N, c.State)
	}
	fmt.Fprintln(w)
	return failed
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}
