package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// idleRun is one process's footprint over one idle window.
type idleRun struct {
	cpuPct        float64 // of one core
	rssMax, rssHW float64 // max sampled VmRSS; VmHWM (the kernel's peak, start-up included)
	rssEnd        float64
}

// benchIdle runs the agent binary with 10 SIP domains against two bind9
// views (internal and external) with its default intervals
// (SFBEX_DNS_INTERVAL=1m) for -bench.idle, scraped every 15 s as
// Prometheus would, and measures RSS and CPU. Only the DNS family runs: the
// HTTP families need HTTPS servers (the lab's, whose cost would land in
// the agent's process) and email domains would make them dial hosts
// through the system resolver.
//
// Baseline, in the same window: blackbox_exporter doing the same job, the
// same 6 lookups per domain through both servers (one module per record,
// 120 /probe calls) every minute.
func benchIdle(t *testing.T, tab *table) {
	n := *flagIdleDomains
	domains := domainNames(n)
	internal := infra.StartNamed(t, map[string]string{"test": testZone(n, internalView, 0)})
	external := infra.StartNamed(t, map[string]string{"test": testZone(n, externalView, 0)})
	bin := infra.BuildAgent(t)
	var sipRecords []struct{ Name, Type string }
	for _, r := range benchRecords {
		if r.Name != "autodiscover" {
			sipRecords = append(sipRecords, r)
		}
	}
	modules := bbModules(domains, sipRecords)
	const interval = time.Minute

	var agentRuns, bbRuns []idleRun
	for run := 0; run < *flagRuns; run++ {
		agent := infra.StartAgent(t, bin, nil, []string{
			"SFBEX_SIP_DOMAINS=" + strings.Join(domains, ","),
			"SFBEX_EMAIL_DOMAINS=",
			"SFBEX_DEPLOYMENT=onprem",
			"SFBEX_DNS_RESOLVERS=internal=" + internal.Addr + ",external=" + external.Addr,
			"SFBEX_DNS_INTERNAL_RESOLVERS=internal",
			"SFBEX_TLS_SKIP_ENDPOINTS=all",
			"SFBEX_SIP_ENABLED=false",
			"SFBEX_LYNCDISCOVER_VIEWS=",
			"SFBEX_DNS_INTERVAL=" + interval.String(),
		})
		onlyDNSChecks(t, agent.URL, n)
		bb := startBlackbox(t, modules)
		c := loopbackClient(16, 30*time.Second)
		scrape := func() {
			resp, err := c.Get(agent.URL + "/metrics")
			if err != nil {
				t.Errorf("scrape: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		probe := func() {
			for _, target := range []string{internal.Addr, external.Addr} {
				if failed := bb.probeAll(t, c, target, modules, 16); failed > 0 {
					t.Errorf("blackbox: %d probes failed", failed)
				}
			}
		}
		// Both have done their first round (the agent is ready); settle.
		scrape()
		probe()
		time.Sleep(2 * time.Second)

		start := time.Now()
		aCPU0, bCPU0 := mustCPU(t, agent.PID()), mustCPU(t, bb.pid())
		var a, b idleRun
		nextScrape, nextProbe := start, start.Add(interval)
		tick := time.NewTicker(time.Second)
		for now := start; now.Sub(start) < *flagIdle; now = <-tick.C {
			if !now.Before(nextScrape) {
				scrape()
				nextScrape = nextScrape.Add(15 * time.Second)
			}
			if !now.Before(nextProbe) {
				probe()
				nextProbe = nextProbe.Add(interval)
			}
			for _, s := range []struct {
				pid int
				r   *idleRun
			}{{agent.PID(), &a}, {bb.pid(), &b}} {
				rss, hwm, err := memory(s.pid)
				if err != nil {
					t.Fatal(err)
				}
				s.r.rssMax, s.r.rssHW, s.r.rssEnd = max(s.r.rssMax, float64(rss)), float64(hwm), float64(rss)
			}
		}
		tick.Stop()
		wall := time.Since(start)
		a.cpuPct = 100 * float64(mustCPU(t, agent.PID())-aCPU0) / float64(wall)
		b.cpuPct = 100 * float64(mustCPU(t, bb.pid())-bCPU0) / float64(wall)
		c.CloseIdleConnections()
		agent.Stop()
		bb.stop()
		agentRuns, bbRuns = append(agentRuns, a), append(bbRuns, b)
		t.Logf("run %d (%v): agent CPU %.3f%%, RSS max %s end %s peak %s; blackbox CPU %.3f%%, RSS max %s end %s peak %s",
			run+1, wall.Round(time.Second), a.cpuPct, fmtBytes(a.rssMax), fmtBytes(a.rssEnd), fmtBytes(a.rssHW),
			b.cpuPct, fmtBytes(b.rssMax), fmtBytes(b.rssEnd), fmtBytes(b.rssHW))
	}
	med := func(rs []idleRun, f func(idleRun) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	what := fmt.Sprintf("idle, %d SIP domains × 6 records × 2 resolvers, %v (vs blackbox_exporter probing the same every minute)", n, *flagIdle)
	rssHW := func(r idleRun) float64 { return r.rssHW }
	rssEnd := func(r idleRun) float64 { return r.rssEnd }
	cpu := func(r idleRun) float64 { return r.cpuPct }
	tab.limitRow(what+": peak RSS (VmHWM)", med(agentRuns, rssHW), med(bbRuns, rssHW), fmtBytes, 40<<20, "≤ 40 MiB")
	tab.limitRow(what+": RSS at the end", med(agentRuns, rssEnd), med(bbRuns, rssEnd), fmtBytes, 40<<20, "≤ 40 MiB")
	tab.limitRow(what+": CPU, % of one core", med(agentRuns, cpu), med(bbRuns, cpu), fmtPct, 1-1e-9, "< 1 %")
}

// onlyDNSChecks fails the test unless the agent runs n checks, all DNS:
// the footprint is that of the DNS family, and a new default that adds a
// family must be turned off here.
func onlyDNSChecks(t *testing.T, url string, n int) {
	t.Helper()
	resp, err := loopbackClient(1, 10*time.Second).Get(url + "/api/checks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var views []struct {
		ID    string `json:"id"`
		Probe string `json:"probe"`
		State string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&views); err != nil {
		t.Fatal(err)
	}
	n++ // the lifecycle family's one check (hourly, no switch: it always runs)
	for _, v := range views {
		if v.Probe != "dns" && v.Probe != "lifecycle" {
			t.Fatalf("the idle agent runs %s: turn that family off in benchIdle", v.ID)
		}
		if v.State != "ok" {
			t.Errorf("%s: %s", v.ID, v.State)
		}
	}
	if len(views) != n {
		t.Fatalf("the idle agent runs %d checks, want %d", len(views), n)
	}
}

// limitRow adds a figure with an absolute limit; the ratio to the baseline
// is for information.
func (tb *table) limitRow(what string, ours, base float64, format func(float64) string, limit float64, target string) {
	r := row{What: what, Ours: format(ours), Baseline: format(base), Ratio: "n/a", Target: target, Verdict: verdict(ours <= limit)}
	if base > 0 {
		r.Ratio = fmt.Sprintf("%.2f×", ours/base)
	}
	tb.add(r)
}
