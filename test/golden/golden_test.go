// Package golden pins what the agent shows on its lab, so that a change of
// layout (moving code between packages) can be proved to change nothing an
// admin, an alert or a dashboard sees: the series of /metrics (names, labels,
// values) and the `check --lab --verbose` report, healthy and with every lab
// fault on.
//
// What differs from run to run is masked before comparing: timings, dates
// and timestamps (the lab issues its certificates at start), certificate
// serials and thumbprints, loopback ports and temporary paths, the build
// stamp. Everything else must match testdata/ byte for byte.
//
// After an intended change of what the agent shows, regenerate with
//
//	go test ./test/golden -update
//
// and review the diff of testdata/ like code.
package golden

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

var update = flag.Bool("update", false, "rewrite testdata/ from what the agent shows now")

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

// masks turn what varies between runs into placeholders. Order matters:
// whole-line rules first, then label values, then free text.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	// Values of timings and timestamps: the series stays, its value is masked.
	{regexp.MustCompile(`(?m)^(sfbex_\w*(?:_seconds|_timestamp_seconds)(?:\{[^}]*\})?) \S+$`), "$1 <time>"},
	// The build stamp (version, revision, date) changes with every commit.
	{regexp.MustCompile(`(?m)^sfbex_exporter_build_info\{[^}]*\}`), "sfbex_exporter_build_info{<build>}"},
	// Certificate identities the lab mints afresh at each start.
	{regexp.MustCompile(`(serial|thumbprint|x5t|fingerprint_sha1|sha1)="[0-9A-Fa-f:]{6,}"`), `$1="<hex>"`},
	{regexp.MustCompile(`\b(serial|thumbprint) [0-9A-F]{6,}\b`), "$1 <hex>"},
	{regexp.MustCompile(`\b[0-9A-F]{40}\b`), "<sha1>"},
	// Loopback ports chosen at start, and temporary directories.
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	{regexp.MustCompile(`/tmp/[^\s"/]+`), "/tmp/<dir>"},
	// Labs running at once take the next snapshot folder (cms-snapshots-2).
	{regexp.MustCompile(`cms-snapshots-\d+`), "cms-snapshots"},
	// Dates and durations in the report.
	{regexp.MustCompile(`\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?Z?)?`), "<date>"},
	{regexp.MustCompile(`\[(\d+(\.\d+)?(h|m|s|ms|µs|ns))+\]`), "[<dur>]"},
	// The EWS shutdown countdown changes every day.
	{regexp.MustCompile(`on <date> \((\d+ days left|switched off \d+ days ago)\)`), "on <date> (<days>)"},
	{regexp.MustCompile(`-?\d+ days left until <date>`), "<days> left until <date>"},
	// How a closed connection surfaces (EOF or a reset) is up to the kernel.
	{regexp.MustCompile(`\((EOF|read tcp [^)]*)\)`), "(<closed>)"},
	{regexp.MustCompile(`\(\d+ ms\)`), "(<ms>)"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms)\b`), "<dur>"},
	{regexp.MustCompile(`\bin \d+(\.\d+)?s\b`), "in <dur>"},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

// agentSeries keeps the agent's own series (sfbex_*), HELP and TYPE lines
// included, sorted: the Go runtime's and the process's series are not ours.
func agentSeries(metrics string) string {
	var keep []string
	for _, line := range strings.Split(metrics, "\n") {
		name := line
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			name = line[len("# HELP "):]
		}
		if strings.HasPrefix(name, "sfbex_") {
			keep = append(keep, mask(line))
		}
	}
	slices.Sort(keep)
	return strings.Join(keep, "\n") + "\n"
}

// reportLines drops the agent's log lines (JSON, with their own timestamps)
// from the output of `check`.
func reportLines(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			continue
		}
		keep = append(keep, mask(line))
	}
	return strings.Join(keep, "\n")
}

func compare(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./test/golden -update` to create it)", err)
	}
	if string(want) == got {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
	var diff []string
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			diff = append(diff, "- "+l)
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			diff = append(diff, "+ "+l)
		}
	}
	if len(diff) > 60 {
		diff = append(diff[:60], "…")
	}
	t.Errorf("%s differs from what the agent shows now (- golden, + now; order may differ too):\n%s\n"+
		"If the change is intended, run `go test ./test/golden -update` and review the diff.", path, strings.Join(diff, "\n"))
}

// labFaults asks a running lab agent for the names of every fault it has.
func labFaults(t *testing.T, a *infra.Agent) []string {
	t.Helper()
	resp, err := http.Get(a.URL + "/lab/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var faults []struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&faults); err != nil {
		t.Fatalf("GET /lab/faults: %v", err)
	}
	var names []string
	for _, f := range faults {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		t.Fatal("GET /lab/faults listed no fault")
	}
	return names
}

func metricsOf(t *testing.T, a *infra.Agent) string {
	t.Helper()
	resp, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, resp.Status)
	}
	return string(b)
}

func runCheck(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"check", "--lab", "--verbose"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
		t.Fatalf("check %v exited %d (%v):\n%s", args, code, err, out)
	}
	return reportLines(string(out))
}

func faultFlags(faults []string) []string {
	var args []string
	for _, f := range faults {
		args = append(args, "--lab.fault="+f)
	}
	return args
}

// TestLabGolden runs each check once (a one-hour interval keeps the counters
// at exactly one run when the agent reports ready) and compares.
func TestLabGolden(t *testing.T) {
	bin := infra.BuildAgent(t)
	healthy := infra.StartAgent(t, bin, []string{"--lab", "--lab.interval=1h"}, nil)
	faults := labFaults(t, healthy)
	compare(t, "metrics-healthy.txt", agentSeries(metricsOf(t, healthy)))
	healthy.Stop()

	faulty := infra.StartAgent(t, bin, append([]string{"--lab", "--lab.interval=1h"}, faultFlags(faults)...), nil)
	compare(t, "metrics-all-faults.txt", agentSeries(metricsOf(t, faulty)))
	faulty.Stop()

	compare(t, "check-healthy.txt", runCheck(t, bin))
	compare(t, "check-all-faults.txt", runCheck(t, bin, faultFlags(faults)...))
}
