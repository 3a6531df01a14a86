// Package chaos puts the real agent binary under load and faults (issue 8).
//
// TestLoad: concurrent scrapers against /metrics and the status page of an
// agent on its lab (--lab --lab.interval=1s). The ordinary `go test` runs a
// short version (50 scrapers for 5 s); SFBEX_BENCH=1 (test/bench/run.sh)
// runs the full one (200 scrapers for 60 s). Flags or variables override:
//
//	go test -run TestLoad -v ./test/chaos/ -args -load.scrapers=200 -load.duration=60s
//	SFBEX_LOAD_SCRAPERS=200 SFBEX_LOAD_DURATION=60s go test -run TestLoad -v ./test/chaos/
package chaos

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/bench/isolate"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

var (
	flagScrapers = flag.Int("load.scrapers", 0, "concurrent scrapers (default 50; 200 with SFBEX_BENCH=1; or SFBEX_LOAD_SCRAPERS)")
	flagDuration = flag.Duration("load.duration", 0, "how long the load lasts (default 5s; 60s with SFBEX_BENCH=1; or SFBEX_LOAD_DURATION)")
	flagOut      = flag.String("load.out", "", "also write the summary (Markdown) to this file (or SFBEX_LOAD_OUT)")
)

// TestMain runs the tests in a private network namespace with only a
// loopback interface when the system allows it (see test/bench/isolate):
// whatever the agent's defaults, it can reach nothing else.
func TestMain(m *testing.M) {
	if code, ran := isolate.Main(isolate.Prefer, infra.AgentPackage); ran {
		os.Exit(code)
	}
	os.Exit(infra.Main(m))
}

func loadSettings() (scrapers int, dur time.Duration) {
	scrapers, dur = 50, 5*time.Second
	if os.Getenv("SFBEX_BENCH") == "1" {
		scrapers, dur = 200, 60*time.Second
	}
	if v, err := strconv.Atoi(os.Getenv("SFBEX_LOAD_SCRAPERS")); err == nil && v > 0 {
		scrapers = v
	}
	if v, err := time.ParseDuration(os.Getenv("SFBEX_LOAD_DURATION")); err == nil && v > 0 {
		dur = v
	}
	if *flagScrapers > 0 {
		scrapers = *flagScrapers
	}
	if *flagDuration > 0 {
		dur = *flagDuration
	}
	return scrapers, dur
}

// Margins for "back to baseline" once the load is over.
const (
	goroutineMargin = 5       // over the highest count seen before the load
	rssMarginFrac   = 0.25    // RSS: 25 % over the highest seen before the load ...
	rssMarginMin    = 8 << 20 // ... and at least 8 MiB
	settleGoroutine = 30 * time.Second
	settleRSS       = 90 * time.Second
)

// endpoint is one page the scrapers ask for, and how to recognise a whole answer.
type endpoint struct {
	path, mustContain string
}

var endpoints = []endpoint{
	{"/metrics", "sfbex_probe_success{"},
	{"/", "</html>"},
}

// TestLoad: N scrapers, each with its own keep-alive connection, take
// turns on /metrics and the status page for the duration. Every answer
// must be a whole 200; afterwards the agent's goroutines (go_goroutines)
// and RSS must come back to within a margin of what they were before.
func TestLoad(t *testing.T) {
	scrapers, dur := loadSettings()
	bin := infra.BuildAgent(t)
	a := infra.StartAgent(t, bin, []string{"--lab", "--lab.interval=1s"}, nil)
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

	// Warm up: a few lab rounds, each page served once.
	time.Sleep(3 * time.Second)
	for _, e := range endpoints {
		if _, _, err := fetch(probe, a.URL+e.path, e.mustContain); err != nil {
			t.Fatalf("warm-up %s: %v", e.path, err)
		}
	}
	runs0, fails0 := probeCounts(t, probe, a)
	base := sample(t, probe, a, 5*time.Second)
	runs1, fails1 := probeCounts(t, probe, a)
	t.Logf("before: goroutines %d–%d, RSS %s–%s", base.gMin, base.gMax, mib(base.rssMin), mib(base.rssMax))

	// The load.
	tr := &http.Transport{Proxy: nil, MaxIdleConns: scrapers, MaxIdleConnsPerHost: scrapers, MaxConnsPerHost: scrapers}
	client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	results := make([]scraperResult, scrapers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for i := range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.lat = map[string][]time.Duration{}
			r.errs = map[string]int{}
			for n := i; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				e := endpoints[n%len(endpoints)]
				d, code, err := fetch(client, a.URL+e.path, e.mustContain)
				switch {
				case err != nil:
					r.errs[fmt.Sprintf("%s: %v", e.path, err)]++
				default:
					r.lat[e.path] = append(r.lat[e.path], d)
				}
				_ = code
			}
		}()
	}
	during := sample(t, probe, a, dur)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	tr.CloseIdleConnections()
	runs2, fails2 := probeCounts(t, probe, a)

	// Back to baseline?
	gAfter, gOK := settle(settleGoroutine, func() (int, bool) {
		g := goroutines(t, probe, a)
		return g, g <= base.gMax+goroutineMargin
	})
	rssLimit := max(base.rssMax+uint64(rssMarginFrac*float64(base.rssMax)), base.rssMax+rssMarginMin)
	var rssAfter uint64
	_, rssOK := settle(settleRSS, func() (int, bool) {
		rssAfter = rss(t, a.PID())
		return 0, rssAfter <= rssLimit
	})

	// Report.
	lat := map[string][]time.Duration{}
	errs := map[string]int{}
	total, failed := 0, 0
	for _, r := range results {
		for p, ds := range r.lat {
			lat[p] = append(lat[p], ds...)
			total += len(ds)
		}
		for e, n := range r.errs {
			errs[e] += n
			failed += n
			total += n
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "load: %d scrapers for %v against the lab agent (--lab --lab.interval=1s): %d requests (%.0f/s), %d errors\n\n",
		scrapers, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(), failed)
	fmt.Fprintln(&b, "| endpoint | requests | p50 | p90 | p99 | max |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---:|---:|")
	for _, e := range endpoints {
		ds := lat[e.path]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", e.path, len(ds), pct(ds, 50), pct(ds, 90), pct(ds, 99), pct(ds, 100))
	}
	fmt.Fprintf(&b, "\n| | before | peak under load | after | limit | back to baseline |\n|---|---:|---:|---:|---:|---|\n")
	fmt.Fprintf(&b, "| go_goroutines | %d–%d | %d | %d | ≤ %d | %s |\n", base.gMin, base.gMax, during.gMax, gAfter, base.gMax+goroutineMargin, yes(gOK))
	fmt.Fprintf(&b, "| RSS (VmRSS) | %s–%s | %s | %s | ≤ %s | %s |\n", mib(base.rssMin), mib(base.rssMax), mib(during.rssMax), mib(rssAfter), mib(rssLimit), yes(rssOK))
	fmt.Fprintf(&b, "\nchecks (lab, every 1 s, 1 s deadline): %.0f of %.0f runs failed during the load; %.0f of %.0f in the 5 s before it\n",
		fails2-fails1, runs2-runs1, fails1-fails0, runs1-runs0)
	t.Log("\n" + b.String())
	if out := firstNonEmpty(*flagOut, os.Getenv("SFBEX_LOAD_OUT")); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}

	if failed > 0 {
		var lines []string
		for e, n := range errs {
			lines = append(lines, fmt.Sprintf("%d× %s", n, e))
		}
		sort.Strings(lines)
		if len(lines) > 10 {
			lines = lines[:10]
		}
		t.Errorf("%d of %d requests failed:\n%s", failed, total, strings.Join(lines, "\n"))
	}
	for _, e := range endpoints {
		if len(lat[e.path]) == 0 {
			t.Errorf("no successful request to %s", e.path)
		}
	}
	if !gOK {
		t.Errorf("goroutines did not come back: %d after %v, limit %d (before %d–%d)", gAfter, settleGoroutine, base.gMax+goroutineMargin, base.gMin, base.gMax)
	}
	if !rssOK {
		t.Errorf("RSS did not come back: %s after %v, limit %s (before %s–%s)", mib(rssAfter), settleRSS, mib(rssLimit), mib(base.rssMin), mib(base.rssMax))
	}
	if exited, err := a.Exited(); exited {
		t.Fatalf("the agent exited under load: %v", err)
	}
}

type scraperResult struct {
	lat  map[string][]time.Duration
	errs map[string]int
}

// fetch GETs url and reads the whole body; an error unless it is a 200
// holding mustContain.
func fetch(c *http.Client, url, mustContain string) (time.Duration, int, error) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, resp.StatusCode, fmt.Errorf("reading the body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(firstLine(string(body))))
	}
	if !strings.Contains(string(body), mustContain) {
		return d, resp.StatusCode, fmt.Errorf("the answer (%d bytes) lacks %q", len(body), mustContain)
	}
	return d, resp.StatusCode, nil
}

// window is what sampling saw: goroutines and RSS, lowest and highest.
type window struct {
	gMin, gMax     int
	rssMin, rssMax uint64
}

// sample reads go_goroutines and VmRSS every 250 ms for d.
func sample(t *testing.T, c *http.Client, a *infra.Agent, d time.Duration) window {
	t.Helper()
	w := window{gMin: 1 << 30, rssMin: 1 << 62}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		g, r := goroutines(t, c, a), rss(t, a.PID())
		w.gMin, w.gMax = min(w.gMin, g), max(w.gMax, g)
		w.rssMin, w.rssMax = min(w.rssMin, r), max(w.rssMax, r)
	}
	return w
}

// goroutines reads go_goroutines from the agent's /metrics. Under load the
// agent may turn the read away (503, its limit of scrapes in flight): the
// sampler tries again, it is not one of the scrapers being measured.
func goroutines(t *testing.T, c *http.Client, a *infra.Agent) int {
	t.Helper()
	var last string
	for try := 0; try < 100; try++ {
		n, err := readGoroutines(c, a.URL+"/metrics")
		if err == nil {
			return n
		}
		last = err.Error()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sampling go_goroutines: %s", last)
	return 0
}

func readGoroutines(c *http.Client, url string) (int, error) {
	sums, err := readSums(c, url, "go_goroutines")
	return int(sums["go_goroutines"]), err
}

// readSums reads /metrics and sums the samples of each named metric.
func readSums(c *http.Client, url string, names ...string) (map[string]float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sums := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			rest, ok := strings.CutPrefix(line, n)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", n, line)
			}
			sums[n] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := sums[n]; !ok {
			return nil, fmt.Errorf("no %s in /metrics", n)
		}
	}
	return sums, nil
}

// probeCounts reads the checks' runs and failures so far.
func probeCounts(t *testing.T, c *http.Client, a *infra.Agent) (runs, failures float64) {
	t.Helper()
	var last error
	for try := 0; try < 100; try++ {
		sums, err := readSums(c, a.URL+"/metrics", "sfbex_probe_runs_total", "sfbex_probe_failures_total")
		if err == nil {
			return sums["sfbex_probe_runs_total"], sums["sfbex_probe_failures_total"]
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("reading sfbex_probe_runs_total: %v", last)
	return 0, 0
}

// rss reads VmRSS of pid in bytes.
func rss(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseUint(f[0], 10, 64); err == nil && len(f) == 2 && f[1] == "kB" {
				return n << 10
			}
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}

// settle polls f every 500 ms until it reports ok or timeout passes; it
// returns f's last value.
func settle(timeout time.Duration, f func() (int, bool)) (int, bool) {
	deadline := time.Now().Add(timeout)
	for {
		v, ok := f()
		if ok || time.Now().After(deadline) {
			return v, ok
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// pct is the p-th percentile of sorted ds.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "–"
	}
	i := (len(ds)*p + 99) / 100
	i = min(max(i-1, 0), len(ds)-1)
	return ms(ds[i])
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
