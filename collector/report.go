package collector

import (
	"fmt"
	"io"
	"strings"

	"github.com/sfbex/sfbex_exporter/probes"
)

// WriteReport prints the views for people, as `sfbex_exporter check` does,
// and returns how many checks failed. verbose adds each result's details.
func WriteReport(w io.Writer, views []CheckView, verbose bool) (failed int) {
	for _, v := range views {
		mark := " OK "
		if v.Failed() {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "[%s] %-12s %s  (%.0f ms)\n", mark, v.Probe, v.Target, v.DurationSeconds*1000)
		if v.State == "pending" {
			fmt.Fprintf(w, "       did not complete\n")
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
	fmt.Fprintf(w, "\n%s, %d failed\n", probes.Count(len(views), "check", "checks"), failed)
	return failed
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}
