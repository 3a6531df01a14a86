package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// statsNamed is infra's bind9 with its statistics channel, so both sides'
// queries are counted by the server.
type statsNamed struct{ *infra.Named }

func startStatsNamed(tb testing.TB, zones map[string]string) *statsNamed {
	tb.Helper()
	return &statsNamed{infra.StartNamedWithStats(tb, zones)}
}

func (n *statsNamed) pid() int { return n.PID() }

// queryStats are named's counters: queries by type, and over TCP.
type queryStats struct {
	Queries float64
	ByType  map[string]float64
	TCP     float64
}

func (n *statsNamed) stats(tb testing.TB) queryStats {
	tb.Helper()
	resp, err := loopbackClient(1, 5*time.Second).Get(n.StatsURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Opcodes map[string]float64 `json:"opcodes"`
		Qtypes  map[string]float64 `json:"qtypes"`
		NSStats map[string]float64 `json:"nsstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		tb.Fatal(err)
	}
	return queryStats{Queries: s.Opcodes["QUERY"], ByType: s.Qtypes, TCP: s.NSStats["ReqTCP"]}
}

func (a queryStats) minus(b queryStats) queryStats {
	out := queryStats{Queries: a.Queries - b.Queries, TCP: a.TCP - b.TCP, ByType: map[string]float64{}}
	for k, v := range a.ByType {
		if d := v - b.ByType[k]; d != 0 {
			out.ByType[k] = d
		}
	}
	return out
}

func (a queryStats) String() string {
	var parts []string
	for _, k := range sortedKeys(a.ByType) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, a.ByType[k]))
	}
	return fmt.Sprintf("%.0f (%s; TCP %.0f)", a.Queries, strings.Join(parts, ", "), a.TCP)
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// bbModule is one blackbox_exporter dns module: blackbox puts the query
// name in the module (the target is the server), so its users need one
// module per record name and type. NXDOMAIN counts as an answer, as it
// does for the agent (lyncdiscoverinternal must be absent outside).
type bbModule struct{ Name, QueryName, QueryType string }

// bbModules returns the modules for the records of domains, in the
// agent's lookup order.
func bbModules(domains []string, records []struct{ Name, Type string }) []bbModule {
	var out []bbModule
	for i, d := range domains {
		for _, r := range records {
			out = append(out, bbModule{
				Name:      fmt.Sprintf("d%04d_%s_%s", i+1, strings.NewReplacer(".", "", "_", "").Replace(r.Name), strings.ToLower(r.Type)),
				QueryName: r.Name + "." + d,
				QueryType: r.Type,
			})
		}
	}
	return out
}

func bbConfig(modules []bbModule) string {
	var b strings.Builder
	b.WriteString("# written by test/bench: one dns module per record name and type\nmodules:\n")
	for _, m := range modules {
		fmt.Fprintf(&b, `  %s:
    prober: dns
    timeout: 5s
    dns:
      query_name: %q
      query_type: %q
      transport_protocol: udp
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      recursion_desired: true
      valid_rcodes: [NOERROR, NXDOMAIN]
`, m.Name, m.QueryName, m.QueryType)
	}
	return b.String()
}

type blackbox struct {
	*server
	URL string
}

// startBlackbox starts Debian's prometheus-blackbox-exporter on a loopback
// port with the modules, and waits until it answers.
func startBlackbox(tb testing.TB, modules []bbModule) *blackbox {
	tb.Helper()
	infra.Require(tb, "prometheus-blackbox-exporter")
	bin, _ := infra.LookPath("prometheus-blackbox-exporter")
	dir := tb.TempDir()
	conf := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(conf, []byte(bbConfig(modules)), 0o644); err != nil {
		tb.Fatal(err)
	}
	var b *blackbox
	err := infra.StartOnFreePorts(tb, "blackbox_exporter", 3, func() (string, error) {
		addr := fmt.Sprintf("127.0.0.1:%d", infra.FreePort(tb))
		b = &blackbox{
			server: startServer(tb, "blackbox_exporter", dir, bin, "--config.file="+conf, "--web.listen-address="+addr, "--log.level=warn"),
			URL:    "http://" + addr,
		}
		if err := b.waitHTTP(b.URL+"/-/healthy", 20*time.Second); err != nil {
			b.stop()
			return b.log(), err
		}
		return "", nil
	})
	if err != nil {
		tb.Fatalf("blackbox_exporter: %v", err)
	}
	return b
}

// probeAll asks blackbox for every module against the DNS server target,
// conc at a time, the way Prometheus would scrape /probe. It returns how
// many probes did not report success.
func (b *blackbox) probeAll(tb testing.TB, c *http.Client, target string, modules []bbModule, conc int) int {
	tb.Helper()
	work := make(chan bbModule)
	var mu sync.Mutex
	failed := 0
	var firstErr string
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				u := b.URL + "/probe?" + url.Values{"module": {m.Name}, "target": {target}}.Encode()
				ok, detail := probeOnce(c, u)
				if !ok {
					mu.Lock()
					failed++
					if firstErr == "" {
						firstErr = m.Name + ": " + detail
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, m := range modules {
		work <- m
	}
	close(work)
	wg.Wait()
	if failed > 0 {
		tb.Logf("blackbox: %d probes failed, first: %s", failed, firstErr)
	}
	return failed
}

func probeOnce(c *http.Client, u string) (bool, string) {
	resp, err := c.Get(u)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return false, resp.Status
	}
	if !strings.Contains(string(body), "\nprobe_success 1\n") {
		return false, "probe_success is not 1"
	}
	return true, ""
}

// dnsRun is one side's cost of one cycle.
type dnsRun struct {
	wall, cpu, namedCPU time.Duration
	queries             queryStats
}

// benchDNS measures one full DNS cycle of 500 domains × 7 records through
// one bind9: our probers against blackbox_exporter doing the same lookups.
//
// Ours runs in a fresh child process (this test binary, re-executed) that
// builds the checks exactly as cmd/sfbex_exporter/checks.go does for
// SFBEX_SIP_DOMAINS=SFBEX_EMAIL_DOMAINS=<500 domains>,
// SFBEX_DNS_SKIP_RECORDS=_autodiscover._tcp, one resolver, and runs them
// once with SFBEX_MAX_CONCURRENT_PROBES concurrency (collector.RunOnce, the
// code behind `sfbex_exporter check`). The `check` binary itself would also
// run the HTTP families it derives from email domains, which dial hosts
// through the system resolver: not a DNS comparison, and not loopback.
// blackbox_exporter is a fresh process too; for both, only the cycle is
// measured (utime+stime from /proc/<pid>/stat before and after), not the
// start-up. The driver of blackbox (this process, in Prometheus' role) is
// not counted.
//
// A second comparison runs the real binary: `sfbex_exporter check` with the
// 500 domains as SIP domains only (6 records each, no HTTP family), whole
// process from exec to exit, against blackbox's cost for the same 3,000
// lookups.
func benchDNS(t *testing.T, tab *table) {
	n := *flagDNSDomains
	domains := domainNames(n)
	ns := startStatsNamed(t, map[string]string{"test": testZone(n, internalView, 0)})
	modules := bbModules(domains, benchRecords)
	var sipModules, adModules []bbModule
	for _, m := range modules {
		if strings.HasPrefix(m.QueryName, "autodiscover.") {
			adModules = append(adModules, m)
		} else {
			sipModules = append(sipModules, m)
		}
	}
	agentBin := infra.BuildAgent(t)
	conc := *flagConcurrency

	var bbAll, bbSIP, ours, check []dnsRun
	for run := 0; run < *flagRuns; run++ {
		// blackbox_exporter: fresh process, the SIP records, then autodiscover.
		bb := startBlackbox(t, modules)
		c := loopbackClient(conc, 30*time.Second)
		q0, cpu0, ncpu0 := ns.stats(t), mustCPU(t, bb.pid()), mustCPU(t, ns.pid())
		start := time.Now()
		failed := bb.probeAll(t, c, ns.Addr, sipModules, conc)
		sipWall := time.Since(start)
		q1, cpu1, ncpu1 := ns.stats(t), mustCPU(t, bb.pid()), mustCPU(t, ns.pid())
		failed += bb.probeAll(t, c, ns.Addr, adModules, conc)
		wall := time.Since(start)
		q2, cpu2, ncpu2 := ns.stats(t), mustCPU(t, bb.pid()), mustCPU(t, ns.pid())
		c.CloseIdleConnections()
		bb.stop()
		if failed > 0 {
			t.Fatalf("blackbox_exporter: %d of %d probes failed", failed, len(modules))
		}
		bbAll = append(bbAll, dnsRun{wall: wall, cpu: cpu2 - cpu0, namedCPU: ncpu2 - ncpu0, queries: q2.minus(q0)})
		bbSIP = append(bbSIP, dnsRun{wall: sipWall, cpu: cpu1 - cpu0, namedCPU: ncpu1 - ncpu0, queries: q1.minus(q0)})

		// Ours, in-process in a fresh child.
		q0, ncpu0 = ns.stats(t), mustCPU(t, ns.pid())
		r := runCycleChild(t, ns.Addr, n, conc, run == 0)
		q1, ncpu1 = ns.stats(t), mustCPU(t, ns.pid())
		r.queries, r.namedCPU = q1.minus(q0), ncpu1-ncpu0
		ours = append(ours, r)

		// Ours, the real binary: sfbex_exporter check, SIP domains only.
		q0, ncpu0 = ns.stats(t), mustCPU(t, ns.pid())
		r = runCheckBinary(t, agentBin, ns.Addr, domains, conc)
		q1, ncpu1 = ns.stats(t), mustCPU(t, ns.pid())
		r.queries, r.namedCPU = q1.minus(q0), ncpu1-ncpu0
		check = append(check, r)

		t.Logf("run %d: blackbox %v wall %v CPU, queries %s; ours %v wall %v CPU, queries %s; check binary %v wall %v CPU, queries %s; blackbox SIP part %v wall %v CPU",
			run+1, bbAll[run].wall.Round(time.Millisecond), bbAll[run].cpu, bbAll[run].queries,
			ours[run].wall.Round(time.Millisecond), ours[run].cpu, ours[run].queries,
			check[run].wall.Round(time.Millisecond), check[run].cpu, check[run].queries,
			bbSIP[run].wall.Round(time.Millisecond), bbSIP[run].cpu)
	}

	// Each figure is the median of the runs; each ratio the median of the
	// runs' ratios (both sides of a ratio ran back to back).
	row := func(what string, ours, base []dnsRun, f func(dnsRun) float64, format func(float64) string, ceiling float64) {
		var o, b []float64
		for i := range ours {
			o, b = append(o, f(ours[i])), append(b, f(base[i]))
		}
		tab.pairedRow(what, o, b, format, ceiling)
	}
	wall := func(r dnsRun) float64 { return float64(r.wall) }
	cpu := func(r dnsRun) float64 { return float64(r.cpu) }
	queries := func(r dnsRun) float64 { return r.queries.Queries }
	namedCPU := func(r dnsRun) float64 { return float64(r.namedCPU) }
	cpuPerQuery := func(r dnsRun) float64 { return float64(r.cpu) / r.queries.Queries }

	what := fmt.Sprintf("DNS cycle, %d domains × %d records, 1 bind9, concurrency %d", n, len(benchRecords), conc)
	row(what+": wall (ours in-process vs blackbox /probe)", ours, bbAll, wall, fmtDur, 0.5)
	row(what+": CPU (utime+stime)", ours, bbAll, cpu, fmtDur, 0.5)
	row(what+": queries bind9 answered (ours resolves SRV targets too)", ours, bbAll, queries, fmtCount, 0)
	row(what+": CPU per query", ours, bbAll, cpuPerQuery, fmtDur, 0)
	row(what+": bind9 CPU while serving", ours, bbAll, namedCPU, fmtDur, 0)
	what = fmt.Sprintf("`sfbex_exporter check`, %d SIP domains × 6 records, whole process", n)
	row(what+fmt.Sprintf(": wall (vs blackbox's same %d lookups)", len(sipModules)), check, bbSIP, wall, fmtDur, 0.5)
	row(what+": CPU", check, bbSIP, cpu, fmtDur, 0.5)
	row(what+": queries", check, bbSIP, queries, fmtCount, 0)
}

func mustCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	d, err := cpuTime(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// runCycleChild runs TestDNSCycleChild in a fresh process and measures its
// CPU (from /proc/<pid>/stat) between its "ready" and "done" lines.
func runCycleChild(t *testing.T, resolver string, domains, conc int, profile bool) dnsRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDNSCycleChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"SFBEX_BENCH_CHILD=dns-cycle",
		"SFBEX_BENCH_RESOLVER="+resolver,
		"SFBEX_BENCH_DOMAINS="+strconv.Itoa(domains),
		"SFBEX_BENCH_CONCURRENCY="+strconv.Itoa(conc))
	if profile && *flagProfile != "" {
		cmd.Env = append(cmd.Env, "SFBEX_BENCH_PROFILE="+filepath.Join(*flagProfile, "dns-cycle.pprof"))
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("cycle child: %v", err)
		}
	}()
	lines := bufio.NewScanner(stdout)
	expect := func(prefix string) string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
		}
		t.Fatalf("cycle child ended before %q", prefix)
		return ""
	}
	expect("BENCH-READY")
	cpu0 := mustCPU(t, cmd.Process.Pid)
	fmt.Fprintln(stdin, "go")
	done := expect("BENCH-DONE")
	cpu1 := mustCPU(t, cmd.Process.Pid)
	fmt.Fprintln(stdin, "exit")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	f := strings.Fields(done)
	if len(f) != 2 {
		t.Fatalf("cycle child: %q", done)
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	if f[1] != "0" {
		t.Fatalf("cycle child: %s checks failed", f[1])
	}
	return dnsRun{wall: time.Duration(ns), cpu: cpu1 - cpu0}
}

// TestDNSCycleChild is the child process of runCycleChild; it skips in any
// other run.
func TestDNSCycleChild(t *testing.T) {
	if os.Getenv("SFBEX_BENCH_CHILD") != "dns-cycle" {
		t.Skip("the DNS benchmark's child process")
	}
	n, _ := strconv.Atoi(os.Getenv("SFBEX_BENCH_DOMAINS"))
	conc, _ := strconv.Atoi(os.Getenv("SFBEX_BENCH_CONCURRENCY"))
	resolvers := []estate.Resolver{{Name: "internal", Addr: os.Getenv("SFBEX_BENCH_RESOLVER"), Internal: true}}
	// As cmd/sfbex_exporter/checks.go builds them from the defaults.
	var checks []*probes.Check
	for _, d := range domainNames(n) {
		p, err := dns.NewProber(dns.Config{
			Domain: d, SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
			Resolvers: resolvers, AgreeRecord: dns.DefaultAgreeRecords(estate.OnPrem, estate.OnPrem),
			Skip: map[string]bool{skipRecord: true}, QueryTimeout: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records()) != len(benchRecords) {
			t.Fatalf("%d records per domain, want %d", len(p.Records()), len(benchRecords))
		}
		checks = append(checks, &probes.Check{Probe: "dns", Target: d, Interval: time.Minute, Timeout: 20 * time.Second, Run: p.Probe})
	}
	store := collector.NewStore(checks)
	in := bufio.NewScanner(os.Stdin)
	fmt.Println("BENCH-READY")
	in.Scan()

	if path := os.Getenv("SFBEX_BENCH_PROFILE"); path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	collector.RunOnce(context.Background(), store, checks, conc)
	wall := time.Since(start)
	if os.Getenv("SFBEX_BENCH_PROFILE") != "" {
		pprof.StopCPUProfile()
	}
	failed := 0
	for _, e := range store.Entries() {
		if e.Latest.Err != nil || e.Shown == nil || len(e.Shown.Findings()) > 0 {
			failed++
			if failed == 1 {
				fmt.Fprintf(os.Stderr, "%s: error %v, findings %v\n", e.Check.ID(), e.Latest.Err, e.Shown)
			}
		}
	}
	fmt.Printf("BENCH-DONE %d %d\n", wall.Nanoseconds(), failed)
	in.Scan()
}

// runCheckBinary runs `sfbex_exporter check` over the domains as SIP
// domains, with only the DNS family (no email domain, no derived TLS
// endpoint), and measures the whole process.
func runCheckBinary(t *testing.T, bin, resolver string, domains []string, conc int) dnsRun {
	t.Helper()
	cmd := exec.Command(bin, "check")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SFBEX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"SFBEX_SIP_DOMAINS="+strings.Join(domains, ","),
		"SFBEX_EMAIL_DOMAINS=",
		"SFBEX_DEPLOYMENT=onprem",
		"SFBEX_DNS_RESOLVERS=internal="+resolver,
		"SFBEX_DNS_INTERNAL_RESOLVERS=internal",
		"SFBEX_TLS_SKIP_ENDPOINTS=all",
		"SFBEX_SIP_ENABLED=false",
		"SFBEX_LYNCDISCOVER_VIEWS=",
		"SFBEX_MAX_CONCURRENT_PROBES="+strconv.Itoa(conc))
	cmd.SysProcAttr = sysProcAttr()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("sfbex_exporter check: %v\n%s", err, tail(out.String(), 4000))
	}
	// A DNS comparison only holds while the agent runs nothing but DNS
	// checks for this configuration: fail when a new default adds a family.
	checks := 0
	for _, line := range strings.Split(out.String(), "\n") {
		// "[ OK ] dns          contoso0001.test  (12 ms)"
		_, rest, ok := strings.Cut(line, "]")
		if f := strings.Fields(rest); ok && strings.HasPrefix(line, "[") && len(f) > 0 {
			switch f[0] {
			case "dns":
				checks++
			case "lifecycle":
				// One check that always runs (no variable turns it off);
				// it asks for the autodiscover records once, cheap.
			default:
				t.Fatalf("sfbex_exporter check ran a check that is not DNS: %s\nturn its family off in runCheckBinary", line)
			}
		}
	}
	if checks != len(domains) {
		t.Fatalf("sfbex_exporter check ran %d checks, want %d\n%s", checks, len(domains), tail(out.String(), 2000))
	}
	// utime+stime of the whole life, from wait4's rusage: /proc/<pid>/stat
	// is gone once the process has exited.
	return dnsRun{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
