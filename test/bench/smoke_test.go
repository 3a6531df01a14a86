package bench

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// The quick self-checks of the harness, run by the ordinary `go test`.

// The baseline of the /metrics benchmark renders byte for byte what the
// agent renders, and a hanging check changes neither the series nor the
// answer.
func TestScrapeBaselineMatchesAgent(t *testing.T) {
	f := newScrapeFixture(t, 20) // fails unless plain and agent bodies are equal
	if f.series < 20*100 {
		t.Fatalf("only %d series for 20 domains", f.series)
	}
	before := scrapeBody(t, f.agent, false)
	// The gzip answer, sent from chunks compressed when each result
	// arrived, is a valid gzip stream (CRC and size checked) of the same text.
	zr, err := gzip.NewReader(bytes.NewReader(scrapeBody(t, f.agent, true)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("the gzip answer: %v", err)
	}
	if !bytes.Equal(unzipped, before) {
		t.Fatalf("the gzip answer holds %d bytes, the plain one %d", len(unzipped), len(before))
	}
	f.startHang(t)
	during := scrapeBody(t, f.agent, false)
	f.stopHang()
	after := scrapeBody(t, f.agent, false)
	if !bytes.Equal(before, during) || !bytes.Equal(before, after) {
		t.Fatalf("the hanging check changed /metrics: %d, %d, %d bytes", len(before), len(during), len(after))
	}
}

// The /proc readers return sane values for this process.
func TestProcReaders(t *testing.T) {
	cpu, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if cpu < 0 || cpu > time.Hour {
		t.Fatalf("cpu time %v", cpu)
	}
	rss, hwm, err := memory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || hwm < rss {
		t.Fatalf("rss %d hwm %d", rss, hwm)
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Fatalf("median %v", m)
	}
}

// The generated blackbox_exporter configuration is valid, with one module
// per record name and type.
func TestBlackboxConfigValid(t *testing.T) {
	infra.Require(t, "prometheus-blackbox-exporter")
	bin, _ := infra.LookPath("prometheus-blackbox-exporter")
	modules := bbModules(domainNames(2), benchRecords)
	if len(modules) != 2*len(benchRecords) {
		t.Fatalf("%d modules", len(modules))
	}
	path := filepath.Join(t.TempDir(), "blackbox.yml")
	if err := os.WriteFile(path, []byte(bbConfig(modules)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config.check", "--config.file="+path).CombinedOutput()
	if err != nil {
		t.Fatalf("blackbox_exporter --config.check: %v\n%s", err, out)
	}
	if !strings.Contains(bbConfig(modules), `query_name: "_sipfederationtls._tcp.contoso0002.test"`) {
		t.Fatalf("no module for _sipfederationtls._tcp.contoso0002.test:\n%s", bbConfig(modules))
	}
}

// queriedMetrics lists the sfbex_* metric names the alert rules and the
// dashboards query.
func queriedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob("../../dashboards/*.json")
	files = append(files, "../../alerts/sfbex.rules.yml")
	names := map[string]bool{}
	re := regexp.MustCompile(`sfbex_[a-z0-9_]+`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range re.FindAllString(string(b), -1) {
			names[n] = true
		}
	}
	return names
}

// /metrics at 1,000 domains holds the same information as before issue 17:
// every series of every metric an alert or a dashboard queries has the
// same labels and value in the agent's answer (series encoded when each
// result arrived, sent from compressed chunks) as in what the store's
// metrics gave through a registry and promhttp (the agent before).
func TestQueriedSeriesSameAsBefore(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 50
	}
	f := newScrapeFixture(t, n)
	before := string(scrapeBody(t, f.agentDefault, false))
	zr, err := gzip.NewReader(bytes.NewReader(scrapeBody(t, f.agent, true)))
	if err != nil {
		t.Fatal(err)
	}
	now, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	bySeries := func(body string) map[string]map[string]bool {
		out := map[string]map[string]bool{}
		for _, l := range strings.Split(body, "\n") {
			name, _, _ := strings.Cut(l, "{")
			name, _, _ = strings.Cut(name, " ")
			if strings.HasPrefix(l, "sfbex_") {
				if out[name] == nil {
					out[name] = map[string]bool{}
				}
				out[name][l] = true
			}
		}
		return out
	}
	old, cur := bySeries(before), bySeries(string(now))
	compared := 0
	for name := range queriedMetrics(t) {
		if !maps.Equal(old[name], cur[name]) {
			t.Errorf("%s: %d series before, %d now, not the same", name, len(old[name]), len(cur[name]))
		}
		if len(old[name]) > 0 {
			compared++
		}
	}
	for _, name := range []string{"sfbex_dns_record_present", "sfbex_dns_lookup_outcome", "sfbex_dns_answer_changes_total", "sfbex_probe_success"} {
		if len(cur[name]) < n {
			t.Errorf("%s: %d series for %d domains", name, len(cur[name]), n)
		}
	}
	t.Logf("%d domains: %d queried metrics compared, the same", n, compared)
}
