package bench

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
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
	flagRuns          = flag.Int("bench.runs", 3, "runs per figure; each figure is the median")
	flagScrapeDomains = flag.Int("bench.scrape.domains", 1000, "domains in the /metrics benchmark")
	flagScrapeRounds  = flag.Int("bench.scrape.rounds", 5, "scrapes per handler and run in the /metrics benchmark (the run's figure is their median)")
	flagDNSDomains    = flag.Int("bench.dns.domains", 500, "domains in the DNS cycle benchmark")
	flagConcurrency   = flag.Int("bench.concurrency", 16, "SFBEX_MAX_CONCURRENT_PROBES of our agent, and concurrent /probe requests to blackbox_exporter")
	flagIdle          = flag.Duration("bench.idle", 5*time.Minute, "how long each idle-footprint run watches the agent")
	flagIdleDomains   = flag.Int("bench.idle.domains", 10, "domains of the idle agent")
	flagProfile       = flag.String("bench.profile", "", "directory for CPU profiles of the measured work (scrape.pprof, dns-cycle.pprof)")
	flagOut           = flag.String("bench.out", "", "also write the table of figures (Markdown) to this file")
	flagStrict        = flag.Bool("bench.strict", false, "fail when a target is NOT MET")
)

// TestMain runs the tests in a private network namespace with only a
// loopback interface (package isolate): the agent, bind9 and
// blackbox_exporter can reach nothing but 127.0.0.1, whatever their
// defaults. The measurements refuse to run without one.
func TestMain(m *testing.M) {
	policy, build := isolate.Prefer, []string(nil)
	if benchEnabled() {
		policy, build = isolate.Require, []string{infra.AgentPackage}
	}
	if code, ran := isolate.Main(policy, build...); ran {
		os.Exit(code)
	}
	os.Exit(infra.Main(m))
}

// benchEnabled reports whether SFBEX_BENCH=1: the measurements take
// minutes, so the ordinary test run skips them.
func benchEnabled() bool { return os.Getenv("SFBEX_BENCH") == "1" }

func requireBench(t *testing.T) {
	t.Helper()
	if !benchEnabled() {
		t.Skip("measurements run with SFBEX_BENCH=1: bash test/bench/run.sh")
	}
}

// TestPerformance runs every measurement and prints the table of figures.
// Subtests: scrape, dns, idle, fleet (select with -run TestPerformance/dns).
func TestPerformance(t *testing.T) {
	requireBench(t)
	tab := &table{}
	t.Logf("machine: %s", machine())
	if isolate.Inside() {
		t.Logf("network: a private namespace with only loopback")
	} else {
		t.Logf("network: NOT isolated (SFBEX_ALLOW_NETWORK=1)")
	}
	t.Run("scrape", func(t *testing.T) { benchScrape(t, tab) })
	t.Run("dns", func(t *testing.T) { benchDNS(t, tab) })
	t.Run("idle", func(t *testing.T) { benchIdle(t, tab) })
	t.Run("fleet", func(t *testing.T) { benchFleet(t, tab) })

	var b strings.Builder
	fmt.Fprintf(&b, "\nmachine: %s\nruns per figure: %d (median)\n\n", machine(), *flagRuns)
	tab.write(&b)
	fmt.Print(b.String())
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if *flagStrict {
		for _, r := range tab.rows {
			if r.Verdict == "NOT MET" {
				t.Errorf("NOT MET: %s: %s against %s (%s, target %s)", r.What, r.Ours, r.Baseline, r.Ratio, r.Target)
			}
		}
	}
}

// row is one figure: ours against its baseline, as a ratio against a target.
type row struct {
	What     string
	Ours     string
	Baseline string
	Ratio    string
	Target   string
	Verdict  string // MET, NOT MET, or "" for information only
}

type table struct {
	mu   sync.Mutex
	rows []row
}

func (tb *table) add(r row) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.rows = append(tb.rows, r)
}

// pairedRow adds a figure from runs where ours[i] and base[i] ran back to
// back: ours and baseline are the medians, the ratio is the median of the
// runs' ratios, which a noisy moment of a shared machine disturbs less.
func (tb *table) pairedRow(what string, ours, base []float64, format func(float64) string, ceiling float64) {
	var ratios []float64
	for i := range ours {
		if i < len(base) && base[i] > 0 {
			ratios = append(ratios, ours[i]/base[i])
		}
	}
	r := row{What: what, Ours: format(median(ours)), Baseline: format(median(base)), Ratio: "n/a"}
	if len(ratios) > 0 {
		r.Ratio = fmt.Sprintf("%.2f×", median(ratios))
	}
	if ceiling > 0 {
		r.Target = fmt.Sprintf("≤ %.2f×", ceiling)
		r.Verdict = verdict(len(ratios) > 0 && median(ratios) <= ceiling)
	}
	tb.add(r)
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

func (tb *table) write(w io.Writer) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	fmt.Fprintln(w, "| figure | ours | baseline | ratio | target | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, r := range tb.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.What, r.Ours, r.Baseline, r.Ratio, r.Target, r.Verdict)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}

func fmtCount(n float64) string { return strconv.FormatFloat(n, 'f', 0, 64) }

func fmtPct(p float64) string { return fmt.Sprintf("%.3f %%", p) }

// clockTick is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: 100 on every Linux architecture Go supports here.
const clockTick = 100

// cpuTime returns utime+stime of process pid from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields are counted after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// memory returns VmRSS and VmHWM (peak RSS) of process pid in bytes.
func memory(pid int) (rss, hwm uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s", pid, line)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, nil
}

// machine describes the machine for the report.
func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				if f := strings.Fields(v); len(f) == 2 {
					if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
						mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
					}
				}
			}
		}
	}
	debian := "?"
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		debian = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs (%s), %s RAM, %s, Debian %s, %s/%s",
		runtime.NumCPU(), model, mem, runtime.Version(), debian, runtime.GOOS, runtime.GOARCH)
}
