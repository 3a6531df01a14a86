package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// prometheusAccept is what Prometheus 2.x sends when it scrapes.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// scrapeFixture is a store holding one real DNS result per domain, and the
// handlers that serve it.
type scrapeFixture struct {
	domains int
	series  int
	store   *collector.Store

	// agent serves the store the way the agent does (collector.Handler:
	// the series encoded when each result arrived); agentDefault is the
	// agent before issue 17 (the store's metrics through a registry and
	// promhttp); plain encodes the same series from GaugeVecs and
	// CounterVecs in a plain registry.
	agent, agentDefault, plain http.Handler

	hang     *probes.Check
	hangMu   sync.Mutex
	release  chan struct{} // closing it lets the hanging run return
	hangIn   chan struct{} // receives when the hanging run has started
	hangDone chan struct{}
	cancel   context.CancelFunc
}

// newScrapeFixture runs the real DNS probe of n domains once, through two
// bind9 instances (internal and external views, as a split-brain estate is
// monitored), records the results in a store as the scheduler does, and
// builds the handlers. Every tenth domain's external lyncdiscover points to
// Microsoft 365, so findings series are rendered too.
func newScrapeFixture(tb testing.TB, n int) *scrapeFixture {
	tb.Helper()
	infra.Require(tb, "named", "named-checkconf", "named-checkzone")
	internal := infra.StartNamed(tb, map[string]string{"test": testZone(n, internalView, 0)})
	external := infra.StartNamed(tb, map[string]string{"test": testZone(n, externalView, 10), "online.lync.com": onlineZone})
	resolvers := []estate.Resolver{
		{Name: "internal", Addr: internal.Addr, Internal: true},
		{Name: "external", Addr: external.Addr},
	}

	f := &scrapeFixture{domains: n}
	var checks []*probes.Check
	for _, d := range domainNames(n) {
		p, err := dns.NewProber(dns.Config{
			Domain: d, SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
			Resolvers: resolvers, AgreeRecord: dns.DefaultAgreeRecords(estate.OnPrem, estate.OnPrem),
			QueryTimeout: 2 * time.Second,
		})
		if err != nil {
			tb.Fatal(err)
		}
		checks = append(checks, &probes.Check{Probe: "dns", Target: d, Interval: time.Minute, Timeout: 20 * time.Second, Run: p.Probe})
	}
	// A check whose run blocks and ignores its deadline: the worst a
	// probe can do. It is registered but only runs when startHang says.
	f.hang = &probes.Check{Probe: "autodiscover", Target: "hangs.test", Interval: time.Minute, Timeout: 30 * time.Second,
		Run: func(context.Context) (probes.Result, error) {
			f.hangMu.Lock()
			release, in := f.release, f.hangIn
			f.hangMu.Unlock()
			in <- struct{}{}
			<-release
			return nil, fmt.Errorf("hung")
		}}
	f.store = collector.NewStore(append(checks, f.hang))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	// Two rounds, as a running agent has them: a check's first result goes
	// through a registry, its later ones are written as text directly
	// (collector/text.go), and what is compared is the latter.
	collector.RunOnce(ctx, f.store, checks, 16)
	collector.RunOnce(ctx, f.store, checks, 16)
	tb.Logf("scrape fixture: %d domains probed through 2 bind9 views in %v", n, time.Since(start).Round(time.Millisecond))
	for _, e := range f.store.Entries() {
		if e.Check == f.hang {
			continue
		}
		if e.Runs != 2 || e.Latest.Err != nil || e.Shown == nil {
			tb.Fatalf("%s: runs %d, error %v: the fixture needs two good results per domain", e.Check.ID(), e.Runs, e.Latest.Err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewCollector(f.store))
	f.agent = collector.Handler(f.store, nil)
	// The previous agent: the store's metrics through a registry and promhttp.
	f.agentDefault = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	plain, series, err := mirrorRegistry(reg)
	if err != nil {
		tb.Fatal(err)
	}
	f.series = series
	f.plain = promhttp.HandlerFor(plain, promhttp.HandlerOpts{})

	// The baseline must encode exactly what the agent encodes: the same
	// lines (promhttp sorts a family's series by label, the agent sends
	// them check by check), the same bytes in total.
	a, p := scrapeBody(tb, f.agent, false), scrapeBody(tb, f.plain, false)
	if !bytes.Equal(sortedLines(a), sortedLines(p)) {
		tb.Fatalf("the plain registry does not render the agent's series: %d bytes against %d", len(p), len(a))
	}
	return f
}

// mirrorRegistry returns a plain registry of GaugeVecs and CounterVecs
// holding the same series (names, help, labels, values) as src gathers.
func mirrorRegistry(src prometheus.Gatherer) (*prometheus.Registry, int, error) {
	mfs, err := src.Gather()
	if err != nil {
		return nil, 0, err
	}
	reg := prometheus.NewRegistry()
	series := 0
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		var names []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			names = append(names, lp.GetName())
		}
		values := func(i int) []string {
			lps := mf.GetMetric()[i].GetLabel()
			out := make([]string, len(lps))
			for j, lp := range lps {
				if lp.GetName() != names[j] {
					panic("label names differ within " + mf.GetName())
				}
				out[j] = lp.GetValue()
			}
			return out
		}
		switch typ := mf.GetType().String(); typ {
		case "GAUGE":
			v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mf.GetName(), Help: mf.GetHelp()}, names)
			for i, m := range mf.GetMetric() {
				v.WithLabelValues(values(i)...).Set(m.GetGauge().GetValue())
			}
			reg.MustRegister(v)
		case "COUNTER":
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mf.GetName(), Help: mf.GetHelp()}, names)
			for i, m := range mf.GetMetric() {
				v.WithLabelValues(values(i)...).Add(m.GetCounter().GetValue())
			}
			reg.MustRegister(v)
		default:
			return nil, 0, fmt.Errorf("%s: type %s not mirrored", mf.GetName(), typ)
		}
		series += len(mf.GetMetric())
	}
	return reg, series, nil
}

// sortedLines returns the exposition's lines, sorted.
func sortedLines(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	slices.SortFunc(lines, bytes.Compare)
	return bytes.Join(lines, []byte("\n"))
}

// startHang starts the hanging check and returns once its run is in flight.
func (f *scrapeFixture) startHang(tb testing.TB) {
	tb.Helper()
	f.hangMu.Lock()
	f.release, f.hangIn, f.hangDone = make(chan struct{}), make(chan struct{}, 1), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	done := f.hangDone
	f.hangMu.Unlock()
	go func() {
		defer close(done)
		collector.RunOnce(ctx, f.store, []*probes.Check{f.hang}, 1)
	}()
	select {
	case <-f.hangIn:
	case <-time.After(5 * time.Second):
		tb.Fatal("the hanging check did not start")
	}
}

// stopHang ends the hanging run. The context is cancelled first, so the
// scheduler treats it as a shutdown and records nothing: the store keeps
// the same series with and without the hang.
func (f *scrapeFixture) stopHang() {
	f.cancel()
	close(f.release)
	<-f.hangDone
}

// discardWriter is a ResponseWriter that counts the body and keeps none of it.
type discardWriter struct {
	h    http.Header
	code int
	n    int64
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += int64(len(p))
	return len(p), nil
}

func scrapeRequest(gzip bool) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept", prometheusAccept)
	if gzip {
		r.Header.Set("Accept-Encoding", "gzip")
	}
	return r
}

func scrapeBody(tb testing.TB, h http.Handler, gzip bool) []byte {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, scrapeRequest(gzip))
	if rec.Code != http.StatusOK {
		tb.Fatalf("scrape: %d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// scrapeLoop scrapes h b.N times, reporting the response bytes per scrape.
func scrapeLoop(b *testing.B, h http.Handler, gzip bool) {
	b.ReportAllocs()
	var total int64
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, scrapeRequest(gzip))
		if w.code != http.StatusOK {
			b.Fatalf("scrape answered %d", w.code)
		}
		total += w.n
	}
	b.ReportMetric(float64(total)/float64(b.N), "resp-B/op")
}

// BenchmarkScrape is the /metrics benchmark for `go test -bench`:
//
//	go test -run '^$' -bench Scrape -benchmem ./test/bench/
func BenchmarkScrape(b *testing.B) {
	f := newScrapeFixture(b, *flagScrapeDomains)
	b.Logf("%d domains, %d series", f.domains, f.series)
	b.Run("agent", func(b *testing.B) { scrapeLoop(b, f.agent, false) })
	b.Run("agent-default-opts", func(b *testing.B) { scrapeLoop(b, f.agentDefault, false) })
	b.Run("plain", func(b *testing.B) { scrapeLoop(b, f.plain, false) })
	b.Run("agent-gzip", func(b *testing.B) { scrapeLoop(b, f.agent, true) })
	b.Run("plain-gzip", func(b *testing.B) { scrapeLoop(b, f.plain, true) })
	f.startHang(b)
	b.Run("agent-hang-in-flight", func(b *testing.B) { scrapeLoop(b, f.agent, false) })
	f.stopHang()
}

// scrapeFigures collects one handler's scrapes in one run.
type scrapeFigures struct{ ns, alloc, resp []float64 }

// scrapeOnce scrapes h once after a GC (so that no scrape pays for
// another's garbage) and records its latency, allocated bytes and size.
func (s *scrapeFigures) scrapeOnce(t *testing.T, h http.Handler, gzip bool) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	w := &discardWriter{h: http.Header{}}
	start := time.Now()
	h.ServeHTTP(w, scrapeRequest(gzip))
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	if w.code != http.StatusOK {
		t.Fatalf("scrape answered %d", w.code)
	}
	s.ns = append(s.ns, float64(d))
	s.alloc = append(s.alloc, float64(m1.TotalAlloc-m0.TotalAlloc))
	s.resp = append(s.resp, float64(w.n))
}

// benchScrape measures /metrics with 1,000 domains: the agent's handler
// against promhttp over a plain registry with the same series, plain text
// and gzip, and the agent's scrape with and without a hanging check. The
// handlers take turns scrape by scrape, so a noisy moment of this shared
// machine hits both sides of a ratio; a run's ratio is the median of the
// ratios of adjacent scrapes, the figure the median of the runs.
func benchScrape(t *testing.T, tab *table) {
	f := newScrapeFixture(t, *flagScrapeDomains)
	t.Logf("%d domains, %d series, %d bytes per scrape", f.domains, f.series, len(scrapeBody(t, f.agent, false)))

	rounds := *flagScrapeRounds
	var agent, agentDefault, plain, agentGz, plainGz, calm, hung scrapeFigures
	for run := 0; run < *flagRuns; run++ {
		for round := 0; round < rounds; round++ {
			agent.scrapeOnce(t, f.agent, false)
			plain.scrapeOnce(t, f.plain, false)
			agentDefault.scrapeOnce(t, f.agentDefault, false)
			agentGz.scrapeOnce(t, f.agent, true)
			plainGz.scrapeOnce(t, f.plain, true)
			calm.scrapeOnce(t, f.agent, false)
			f.startHang(t)
			hung.scrapeOnce(t, f.agent, false)
			f.stopHang()
		}
		last := func(xs []float64) float64 { return median(xs[len(xs)-rounds:]) }
		t.Logf("run %d (median of %d scrapes): agent %s %s, plain %s %s, agent default opts %s %s; gzip agent %s plain %s; hang %s vs %s",
			run+1, rounds,
			fmtDur(last(agent.ns)), fmtBytes(last(agent.alloc)), fmtDur(last(plain.ns)), fmtBytes(last(plain.alloc)),
			fmtDur(last(agentDefault.ns)), fmtBytes(last(agentDefault.alloc)),
			fmtDur(last(agentGz.ns)), fmtDur(last(plainGz.ns)), fmtDur(last(hung.ns)), fmtDur(last(calm.ns)))
	}
	row := func(what string, ours, base []float64, format func(float64) string, ceiling float64) {
		tab.pairedRunsRow(what, ours, base, rounds, format, ceiling)
	}
	n := fmt.Sprintf("%d domains × 2 resolvers, %d series", f.domains, f.series)
	row("/metrics render time per scrape ("+n+"; text; the agent's handler vs promhttp over a plain registry)",
		agent.ns, plain.ns, fmtDur, 1.5)
	row("/metrics allocated bytes per scrape (same)", agent.alloc, plain.alloc, fmtBytes, 1.5)
	row("/metrics response bytes per scrape (same)", agent.resp, plain.resp, fmtBytes, 1.5)
	row("/metrics render time, gzip (Accept-Encoding: gzip, as Prometheus scrapes)", agentGz.ns, plainGz.ns, fmtDur, 1.5)
	row("/metrics allocated bytes per scrape, gzip", agentGz.alloc, plainGz.alloc, fmtBytes, 1.5)
	row("/metrics render time, the store through a registry and promhttp (the agent before issue 17) vs plain",
		agentDefault.ns, plain.ns, fmtDur, 0)
	row("/metrics allocated bytes, the store through a registry and promhttp vs plain",
		agentDefault.alloc, plain.alloc, fmtBytes, 0)
	row("/metrics render time with a hanging check in flight vs without (unaffected: within 10 %)", hung.ns, calm.ns, fmtDur, 1.1)

	if *flagProfile != "" {
		profileScrape(t, filepath.Join(*flagProfile, "scrape-agent.pprof"), f.agent)
		profileScrape(t, filepath.Join(*flagProfile, "scrape-plain.pprof"), f.plain)
	}
}

// pairedRunsRow adds a figure from samples taken in runs of rounds, where
// ours[i] and base[i] ran back to back: each run's figure is the median of
// its samples, its ratio the median of its samples' ratios; the row shows
// the medians of the runs.
func (tb *table) pairedRunsRow(what string, ours, base []float64, rounds int, format func(float64) string, ceiling float64) {
	var o, b, ratios []float64
	for start := 0; start+rounds <= len(ours) && start+rounds <= len(base); start += rounds {
		o, b = append(o, median(ours[start:start+rounds])), append(b, median(base[start:start+rounds]))
		var rs []float64
		for i := start; i < start+rounds; i++ {
			if base[i] > 0 {
				rs = append(rs, ours[i]/base[i])
			}
		}
		if len(rs) > 0 {
			ratios = append(ratios, median(rs))
		}
	}
	r := row{What: what, Ours: format(median(o)), Baseline: format(median(b)), Ratio: "n/a"}
	if len(ratios) > 0 {
		r.Ratio = fmt.Sprintf("%.2f×", median(ratios))
	}
	if ceiling > 0 {
		r.Target = fmt.Sprintf("≤ %.2f×", ceiling)
		r.Verdict = verdict(len(ratios) > 0 && median(ratios) <= ceiling)
	}
	tb.add(r)
}

// profileScrape writes a CPU profile of 3 s of scrapes of h.
func profileScrape(t *testing.T, path string, h http.Handler) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, scrapeRequest(false))
	}
	pprof.StopCPUProfile()
	t.Logf("CPU profile: %s", path)
}
