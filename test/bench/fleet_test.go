package bench

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

var (
	flagFleetDomains = flag.String("bench.fleet.domains", "1000,5000,10000", "domain counts of the fleet scenario (SIP and email domains, comma-separated)")
	flagFleetWindow  = flag.Duration("bench.fleet.window", 2*time.Minute, "how long the fleet scenario watches each agent after its first round (scraped every 15 s)")
	flagFleetShards  = flag.Int("bench.fleet.shards", 4, "agents that split the largest estate (SFBEX_SHARD=i/n); 0 or 1: no shard run")
	flagFleetEnv     = flag.String("bench.fleet.env", "", "more environment for the fleet's agents, comma-separated (e.g. SFBEX_MEMORY_LIMIT=off), to measure a setting")
)

// fleetRun is what one agent (or the sum of a sharded fleet) cost.
type fleetRun struct {
	domains     int
	series      float64
	firstRound  time.Duration // from exec to /readyz 200: every check ran once
	peakRSS     float64       // VmHWM
	endRSS      float64
	plainBytes  float64
	plainScrape time.Duration // median
	gzipBytes   float64
	gzipScrape  time.Duration // median, as Prometheus scrapes
	cpuPct      float64       // of one core over the window, scrapes every 15 s
	goroutines  float64
	window      time.Duration
}

// fleetAgent is one running agent of the fleet scenario.
type fleetAgent struct {
	a     *infra.Agent
	start time.Time
	ready time.Duration
}

// startFleetAgent runs the agent binary on the domains (given through
// SFBEX_SIP_DOMAINS_FILE, as a long list must be), two resolvers, default
// intervals, and only the DNS family: the HTTP families' checks would dial
// hosts that do not exist on this loopback-only network.
func startFleetAgent(t *testing.T, bin, domainsFile, internal, external string, extra ...string) *fleetAgent {
	t.Helper()
	env := append([]string{
		"SFBEX_SIP_DOMAINS_FILE=" + domainsFile,
		"SFBEX_DEPLOYMENT=onprem",
		"SFBEX_DNS_RESOLVERS=internal=" + internal + ",external=" + external,
		"SFBEX_DNS_INTERNAL_RESOLVERS=internal",
		"SFBEX_AUTODISCOVER_EXCHANGE=false",
		"SFBEX_LYNCDISCOVER_VIEWS=",
		"SFBEX_TLS_SKIP_ENDPOINTS=all",
		"SFBEX_SIP_ENABLED=false",
		"SFBEX_EXCHANGE_METADATA_URLS=",
	}, extra...)
	if *flagFleetEnv != "" {
		env = append(env, strings.Split(*flagFleetEnv, ",")...)
	}
	var args []string
	if *flagProfile != "" {
		args = append(args, "--web.enable-pprof")
	}
	start := time.Now()
	a := infra.StartAgentReadyWithin(t, 5*time.Minute, bin, args, env)
	return &fleetAgent{a: a, start: start, ready: time.Since(start)}
}

// scrapeTimed fetches /metrics as Prometheus does (gzip when asked), reads
// the whole body and returns its size and time.
func scrapeTimed(t *testing.T, c *http.Client, url string, gzip bool) (int64, time.Duration, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Accept", prometheusAccept)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	var n int64
	if gzip {
		n, err = io.Copy(io.Discard, resp.Body)
	} else {
		n, err = io.Copy(&body, resp.Body)
	}
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %v %s", err, resp.Status)
	}
	return n, d, body.String()
}

// countSeries counts the sfbex_* series of an exposition and checks that
// every check is a DNS check (the scenario measures the DNS family).
func countSeries(t *testing.T, body string, domains int) float64 {
	t.Helper()
	n, dnsChecks := 0, 0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "sfbex_") {
			n++
		}
		if strings.HasPrefix(l, "sfbex_probe_success{") {
			switch {
			case strings.Contains(l, `probe="dns"`):
				dnsChecks++
			case strings.Contains(l, `probe="lifecycle"`):
				// One hourly check that always runs (no switch turns it off).
			default:
				t.Fatalf("the fleet agent runs a check that is not DNS: %s", l)
			}
		}
	}
	if dnsChecks != domains {
		t.Fatalf("the fleet agent runs %d DNS checks, want %d", dnsChecks, domains)
	}
	return float64(n)
}

// fetchProfile saves what the agent's /debug/pprof/<what> answers.
func fetchProfile(t *testing.T, url, what, path string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(url + "/debug/pprof/" + what)
	if err != nil {
		t.Errorf("profile %s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("profile %s: %v %s", what, err, resp.Status)
	}
}

// watch measures agents over the window: scrapes every 15 s (gzip), RSS
// every second, CPU over the window. Each agent's figures are returned.
// With -bench.profile and one agent, the agent's CPU profile over the
// window and its heap at the end are kept as fleet-<domains>-cpu.pprof and
// fleet-<domains>-heap.pprof.
func watch(t *testing.T, agents []*fleetAgent, domains []int, window time.Duration) []fleetRun {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	profiling := *flagProfile != "" && len(agents) == 1
	var profiled sync.WaitGroup
	if profiling {
		profiled.Add(1)
		go func() {
			defer profiled.Done()
			fetchProfile(t, agents[0].a.URL, fmt.Sprintf("profile?seconds=%d", int(window.Seconds())-2),
				filepath.Join(*flagProfile, fmt.Sprintf("fleet-%d-cpu.pprof", domains[0])))
		}()
	}
	runs := make([]fleetRun, len(agents))
	for i, fa := range agents {
		r := &runs[i]
		r.domains, r.firstRound, r.window = domains[i], fa.ready, window
		n, _, body := scrapeTimed(t, c, fa.a.URL, false)
		r.plainBytes, r.series = float64(n), countSeries(t, body, domains[i])
		for _, l := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
				r.goroutines, _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	cpu0 := make([]time.Duration, len(agents))
	for i, fa := range agents {
		cpu0[i] = mustCPU(t, fa.a.PID())
	}
	gz := make([][]float64, len(agents))
	start := time.Now()
	next := start
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for now := start; now.Sub(start) < window; now = <-tick.C {
		if !now.Before(next) {
			var wg sync.WaitGroup
			for i, fa := range agents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, d, _ := scrapeTimed(t, c, fa.a.URL, true)
					gz[i] = append(gz[i], float64(d))
					runs[i].gzipBytes = float64(n)
				}()
			}
			wg.Wait()
			next = next.Add(15 * time.Second)
		}
		for i, fa := range agents {
			rss, hwm, err := memory(fa.a.PID())
			if err != nil {
				t.Fatal(err)
			}
			runs[i].endRSS, runs[i].peakRSS = float64(rss), float64(hwm)
		}
	}
	wall := time.Since(start)
	for i, fa := range agents {
		runs[i].cpuPct = 100 * float64(mustCPU(t, fa.a.PID())-cpu0[i]) / float64(wall)
		runs[i].gzipScrape = time.Duration(median(gz[i]))
	}
	profiled.Wait()
	if profiling {
		fetchProfile(t, agents[0].a.URL, "heap?gc=1", filepath.Join(*flagProfile, fmt.Sprintf("fleet-%d-heap.pprof", domains[0])))
	}
	// Plain-text scrapes (curl, a browser) after the window: they inflate.
	for i, fa := range agents {
		var ps []float64
		var body string
		for range 3 {
			var d time.Duration
			_, d, body = scrapeTimed(t, c, fa.a.URL, false)
			ps = append(ps, float64(d))
		}
		runs[i].plainScrape = time.Duration(median(ps))
		// What the runtime says of its memory, for the docs' account of it.
		var mem []string
		for _, l := range strings.Split(body, "\n") {
			for _, name := range []string{"go_memstats_heap_alloc_bytes ", "go_memstats_heap_inuse_bytes ", "go_memstats_sys_bytes ",
				"go_memstats_next_gc_bytes ", "go_gc_gomemlimit_bytes ", "go_gc_duration_seconds_count "} {
				if v, ok := strings.CutPrefix(l, name); ok {
					mem = append(mem, strings.TrimSuffix(strings.TrimPrefix(name, "go_"), " ")+"="+v)
				}
			}
		}
		t.Logf("%d domains: runtime after the window: %s", domains[i], strings.Join(mem, " "))
	}
	return runs
}

// benchFleet is the scenario of issue 17: one agent serving 1,000, 5,000
// and 10,000 SIP and email domains (8 records each) through two bind9
// views with default intervals, scraped every 15 s; then the largest
// estate split among -bench.fleet.shards agents with SFBEX_SHARD.
func benchFleet(t *testing.T, tab *table) {
	var sizes []int
	for _, s := range strings.Split(*flagFleetDomains, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("-bench.fleet.domains=%q: give domain counts, e.g. 1000,5000,10000", *flagFleetDomains)
		}
		sizes = append(sizes, n)
	}
	largest := 0
	for _, n := range sizes {
		largest = max(largest, n)
	}
	bin := infra.BuildAgent(t)
	internal := infra.StartNamed(t, map[string]string{"test": testZone(largest, internalView, 10), "online.lync.com": onlineZone})
	external := infra.StartNamed(t, map[string]string{"test": testZone(largest, externalView, 10), "online.lync.com": onlineZone})

	var results []fleetRun
	for _, n := range sizes {
		file := filepath.Join(t.TempDir(), "domains")
		if err := os.WriteFile(file, []byte(strings.Join(domainNames(n), ",\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fa := startFleetAgent(t, bin, file, internal.Addr, external.Addr)
		r := watch(t, []*fleetAgent{fa}, []int{n}, *flagFleetWindow)[0]
		fa.a.Stop()
		results = append(results, r)
		t.Logf("%d domains: %s", n, r)
	}

	what := func(r fleetRun) string {
		return fmt.Sprintf("fleet, %d SIP+email domains × 8 records × 2 resolvers, %.0f series", r.domains, r.series)
	}
	for _, r := range results {
		w := what(r)
		if r.domains == 10000 {
			tab.limitRow(w+": peak RSS (VmHWM)", r.peakRSS, 0, fmtBytes, 256<<20, "≤ 256 MiB")
			tab.limitRow(w+": gzip scrape, median over the window", float64(r.gzipScrape), 0, fmtDur, float64(2*time.Second), "≤ 2 s")
			tab.limitRow(w+": first DNS round (exec to ready)", float64(r.firstRound), 0, fmtDur, float64(time.Minute), "≤ 60 s")
			tab.limitRow(w+": steady CPU, % of one core, scrapes every 15 s", r.cpuPct, 0, fmtPct, 25, "≤ 25 %")
		}
		if r.domains == 1000 {
			tab.limitRow(w+": peak RSS (VmHWM)", r.peakRSS, 0, fmtBytes, 48<<20, "≤ 48 MiB")
		}
		tab.add(row{What: w + ": RSS per domain / per series (at the end of the window)",
			Ours: fmt.Sprintf("%s / %.0f B", fmtBytes(r.endRSS/float64(r.domains)), r.endRSS/r.series), Ratio: "n/a"})
	}
	for i := 1; i < len(results); i++ {
		a, b := results[i-1], results[i]
		if b.domains > a.domains {
			tab.add(row{What: fmt.Sprintf("fleet: memory growth from %d to %d domains (end RSS)", a.domains, b.domains),
				Ours: fmt.Sprintf("%s per domain, %.0f B per series", fmtBytes((b.endRSS-a.endRSS)/float64(b.domains-a.domains)),
					(b.endRSS-a.endRSS)/(b.series-a.series)), Ratio: "n/a"})
		}
	}

	// The largest estate split among N agents from one configuration.
	shards := *flagFleetShards
	if shards < 2 || len(results) == 0 {
		printFleetTable(t, results, nil)
		return
	}
	one := results[len(results)-1]
	for _, r := range results {
		if r.domains == largest {
			one = r
		}
	}
	file := filepath.Join(t.TempDir(), "domains")
	if err := os.WriteFile(file, []byte(strings.Join(domainNames(largest), ",\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var fleet []*fleetAgent
	var started sync.WaitGroup
	fleet = make([]*fleetAgent, shards)
	var mu sync.Mutex
	for i := range shards {
		started.Add(1)
		go func() {
			defer started.Done()
			fa := startFleetAgent(t, bin, file, internal.Addr, external.Addr, fmt.Sprintf("SFBEX_SHARD=%d/%d", i, shards))
			mu.Lock()
			fleet[i] = fa
			mu.Unlock()
		}()
	}
	started.Wait()
	// Each shard's domains: the /metrics of each tells (countSeries checks them).
	counts := make([]int, shards)
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}}
	total := 0
	for i, fa := range fleet {
		_, _, body := scrapeTimed(t, c, fa.a.URL, false)
		counts[i] = strings.Count(body, "\nsfbex_probe_success{probe=\"dns\"")
		total += counts[i]
	}
	if total != largest {
		t.Fatalf("the %d shards watch %d domains, the estate has %d", shards, total, largest)
	}
	runs := watch(t, fleet, counts, *flagFleetWindow)
	var sum fleetRun
	sum.domains = total
	for _, r := range runs {
		sum.series += r.series
		sum.peakRSS += r.peakRSS
		sum.endRSS += r.endRSS
		sum.cpuPct += r.cpuPct
		sum.firstRound = max(sum.firstRound, r.firstRound)
		sum.gzipScrape = max(sum.gzipScrape, r.gzipScrape)
		sum.plainScrape = max(sum.plainScrape, r.plainScrape)
		sum.plainBytes += r.plainBytes
		sum.gzipBytes += r.gzipBytes
		sum.goroutines += r.goroutines
	}
	for _, fa := range fleet {
		fa.a.Stop()
	}
	t.Logf("%d shards of %d domains (%v): sum %s", shards, largest, counts, sum)
	w := fmt.Sprintf("fleet, %d domains split among %d agents (SFBEX_SHARD, %v domains) vs one agent", largest, shards, counts)
	tab.pairedRow(w+": peak RSS, sum", []float64{sum.peakRSS}, []float64{one.peakRSS}, fmtBytes, 1.5)
	tab.pairedRow(w+": steady CPU, sum (% of one core)", []float64{sum.cpuPct}, []float64{one.cpuPct}, fmtPct, 1.5)
	tab.pairedRow(w+": series, sum (each agent adds its own 2)", []float64{sum.series}, []float64{one.series}, fmtCount, 0)
	printFleetTable(t, results, &sum)
}

func (r fleetRun) String() string {
	return fmt.Sprintf("%.0f series, first round %v, peak RSS %s, end RSS %s, /metrics plain %s (%v), gzip %s (%v), CPU %.2f %%, goroutines %.0f",
		r.series, r.firstRound.Round(10*time.Millisecond), fmtBytes(r.peakRSS), fmtBytes(r.endRSS), fmtBytes(r.plainBytes),
		r.plainScrape.Round(time.Millisecond), fmtBytes(r.gzipBytes), r.gzipScrape.Round(time.Millisecond), r.cpuPct, r.goroutines)
}

// printFleetTable prints the table for the current code.
func printFleetTable(t *testing.T, rs []fleetRun, sharded *fleetRun) {
	var b strings.Builder
	b.WriteString("\n| domains | series | first DNS round | peak RSS | /metrics plain | gzip | scrape time (gzip / plain) | steady CPU | goroutines |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	line := func(label string, r fleetRun) {
		fmt.Fprintf(&b, "| %s | %.0f | %.1f s | %s | %s | %s | %.3f s / %.3f s | %.1f %% | %.0f |\n", label, r.series, r.firstRound.Seconds(),
			fmtBytes(r.peakRSS), fmtBytes(r.plainBytes), fmtBytes(r.gzipBytes), r.gzipScrape.Seconds(), r.plainScrape.Seconds(), r.cpuPct, r.goroutines)
	}
	for _, r := range rs {
		line(fmt.Sprintf("%d SIP+email (8 records)", r.domains), r)
	}
	if sharded != nil {
		line(fmt.Sprintf("%d in %d shards (sum; slowest round and scrape)", sharded.domains, *flagFleetShards), *sharded)
	}
	fmt.Print(b.String())
	t.Log(b.String())
	if *flagOut != "" {
		f, err := os.OpenFile(strings.TrimSuffix(*flagOut, ".md")+"-fleet.md", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err == nil {
			_, _ = f.WriteString(b.String())
			f.Close()
		}
	}
}
