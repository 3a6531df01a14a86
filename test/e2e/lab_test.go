// Package e2e runs the real agent binary on its lab and checks what an admin
// and Prometheus see: /metrics, the status page, /api/checks, fault
// injection through /lab, and promtool's lint of the exposition.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func setFault(t *testing.T, a *infra.Agent, name string, on bool) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("%s/lab/faults/%s?on=%t", a.URL, name, on), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("switching %s: %s", name, resp.Status)
	}
}

// sample returns the value of the series whose line starts with prefix
// (metric name and labels, in the order the agent writes them).
func sample(metrics, prefix string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// mustSample is sample for a series that has to be there: the test fails
// when it is absent (an absent series is not a 0).
func mustSample(t *testing.T, metrics, prefix string) float64 {
	t.Helper()
	v, ok := sample(metrics, prefix)
	if !ok {
		t.Fatalf("no series %s on /metrics", prefix)
	}
	return v
}

// waitFor polls /metrics until the series has the value, or fails after 20 s.
func waitFor(t *testing.T, a *infra.Agent, prefix string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got float64
	var ok bool
	for time.Now().Before(deadline) {
		got, ok = sample(get(t, a.URL+"/metrics"), prefix)
		if ok && got == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s = %v (present %v), want %v after 20 s", prefix, got, ok, want)
}

func TestLabServesDNSMetricsAndEveryFaultChangesTheRightSeries(t *testing.T) {
	bin := infra.BuildAgent(t)
	start := time.Now()
	// 2 s: the lab's checks time out after one interval, and on a loaded
	// CI machine a first DNS run of 16 lookups can take longer than 1 s.
	a := infra.StartAgent(t, bin, []string{"--lab", "--lab.interval=2s"}, nil)
	get(t, a.URL+"/metrics")
	t.Logf("ready with metrics after %s", time.Since(start).Round(time.Millisecond))
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to serve metrics; the README promises 10 s", time.Since(start))
	}
	// A run that timed out because the machine was busy is a failure, but
	// not one the faults below cause: count from the first good run.
	waitFor(t, a, `sfbex_probe_success{probe="dns",target="contoso.test"}`, 1)
	metrics := get(t, a.URL+"/metrics")
	failuresBefore := mustSample(t, metrics, `sfbex_probe_failures_total{probe="dns",target="contoso.test"}`)
	for _, want := range []string{
		`sfbex_lab_mode 1`,
		`sfbex_exporter_build_info{`,
		`sfbex_probe_success{probe="dns",target="contoso.test"} 1`,
		`sfbex_dns_record_present{domain="contoso.test",record="lyncdiscoverinternal",resolver="internal",type="A"} 1`,
		`sfbex_dns_deployment_consistent{domain="contoso.test"} 1`,
		`sfbex_dns_views_agree{domain="contoso.test",record="_sipfederationtls._tcp",type="SRV"} 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	page := get(t, a.URL+"/")
	for _, want := range []string{"LAB MODE", "dns</b> contoso.test"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}

	const ext = `{domain="contoso.test",record="sip",resolver="external",type="A"}`
	for _, tc := range []struct {
		fault  string
		series string // the series that must move, and its value while the fault is on
		on     float64
		page   string // what the status page must say
	}{
		{"dns-drift", "sfbex_dns_record_expected" + ext, 0, "points to A 127.0.1.11, expected a:127.0.1.10"},
		{"dns-missing", `sfbex_dns_record_present{domain="contoso.test",record="lyncdiscoverinternal",resolver="internal",type="A"}`, 0, "lyncdiscoverinternal.contoso.test A (resolver internal): is missing"},
		{"dns-mixed", `sfbex_dns_deployment_consistent{domain="contoso.test"}`, 0, "records point to both sides"},
		{"dns-split", `sfbex_dns_views_agree{domain="contoso.test",record="_sipfederationtls._tcp",type="SRV"}`, 0, "the DNS views disagree"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			setFault(t, a, tc.fault, true)
			waitFor(t, a, tc.series, tc.on)
			p := get(t, a.URL+"/")
			if !strings.Contains(p, tc.page) {
				t.Errorf("status page does not say %q", tc.page)
			}
			m := get(t, a.URL+"/metrics")
			if v := mustSample(t, m, `sfbex_probe_findings{probe="dns",severity="critical",target="contoso.test"}`); v < 1 {
				t.Errorf("no critical finding counted with %s on", tc.fault)
			}
			// One state on every surface: the badge, the header's count, the metric.
			if !strings.Contains(p, `<tr id="dns/contoso.test">`+"\n"+`<td><span class="state st-critical">critical</span>`) ||
				!strings.Contains(p, `data-state="critical">`) {
				t.Errorf("the status page does not show dns/contoso.test as critical, in its row and in the header")
			}
			if v, ok := sample(m, `sfbex_probe_state{probe="dns",state="critical",target="contoso.test"}`); !ok || v != 1 {
				t.Errorf(`sfbex_probe_state{state="critical"} = %v (present %v), want 1`, v, ok)
			}
			setFault(t, a, tc.fault, false)
			waitFor(t, a, tc.series, 1)
		})
	}
	// Drift was counted when sip moved, and again when it moved back; the
	// faults that did not touch sip did not count as drift there.
	if v := mustSample(t, get(t, a.URL+"/metrics"), "sfbex_dns_answer_changes_total"+ext); v != 2 {
		t.Errorf("sip changes = %v, want 2 (there and back)", v)
	}
	if v := mustSample(t, get(t, a.URL+"/metrics"), `sfbex_probe_failures_total{probe="dns",target="contoso.test"}`); v != failuresBefore {
		t.Errorf("probe failures went from %v to %v: faults in the estate are findings, not probe failures", failuresBefore, v)
	}
}

func TestMetricsPassPromtoolLint(t *testing.T) {
	infra.Require(t, "promtool")
	a := infra.StartAgent(t, infra.BuildAgent(t), []string{"--lab", "--lab.interval=1s"}, nil)
	metrics := get(t, a.URL+"/metrics")
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(metrics)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestCheckCommandExitCodes(t *testing.T) {
	bin := infra.BuildAgent(t)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run("check", "--lab", "--log.level=error"); code != 0 {
		t.Fatalf("check --lab on a healthy lab exited %d:\n%s", code, out)
	}
	if code, out := run("check", "--lab", "--lab.fault=dns-drift", "--log.level=error"); code != 1 || !strings.Contains(out, "[FAIL] dns") {
		t.Fatalf("check --lab with dns-drift exited %d:\n%s", code, out)
	}
	code, out := run("check")
	if code != 2 || !strings.Contains(out, "SFBEX_SIP_DOMAINS") {
		t.Fatalf("check without configuration exited %d:\n%s", code, out)
	}
	code, out = run("--version")
	if code != 0 || !strings.Contains(out, "sfbex_exporter, version") {
		t.Fatalf("--version exited %d:\n%s", code, out)
	}
}
