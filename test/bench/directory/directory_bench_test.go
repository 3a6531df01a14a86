//go:build linux

package directorybench

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes/directory"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

var (
	flagRuns       = flag.Int("bench.runs", envInt("SFBEX_BENCH_RUNS", 5), "alternating runs of ldapsearch and the agent; each figure is the median (env SFBEX_BENCH_RUNS)")
	flagUsers      = flag.Int("bench.users", envInt("SFBEX_BENCH_USERS", 100_000), "users in the directory (env SFBEX_BENCH_USERS)")
	flagAgentEnv   = flag.String("bench.agentenv", "", "extra environment of the agent, comma-separated (e.g. GOGC=400), to try a remedy")
	flagCPUProfile = flag.String("bench.cpuprofile", "", "after the timed runs, scan once in-process and write its CPU profile here")
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

const (
	suffix   = "DC=contoso,DC=test"
	bindDN   = "CN=svc-sfbex,OU=Service Accounts," + suffix
	password = "B3nch-Pa55word"
	pageSize = 1000
)

// sipDomains are the agent's SFBEX_SIP_DOMAINS; otherDomain is a partner
// domain some users carry, which the agent counts as "other".
var (
	sipDomains  = []string{"contoso.test", "fabrikam.test"}
	otherDomain = "litware.example"
)

// Shares of users, each drawn independently per user.
const (
	shareNotSIP          = 0.03  // no msRTCSIP-PrimaryUserAddress: outside the filter
	shareAccountDisabled = 0.02  // userAccountControl 514: excluded by the bit-and clause
	shareSIPDisabled     = 0.015 // msRTCSIP-UserEnabled FALSE
	shareNoSIPProxy      = 0.04  // proxyAddresses lacks SIP:<address>
	shareNoMail          = 0.02
	shareMismatch        = 0.03 // primary SMTP differs from the SIP address
	shareInvalid         = 0.002
	shareDuplicate       = 0.001 // the SIP address of the previous user
	shareX500            = 0.6   // a legacy X500: proxy address, as migrated mailboxes have
)

var (
	firstNames = []string{"Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Liam", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Umar"}
	lastNames  = []string{"Schmidt", "Dupont", "Garcia", "Rossi", "Nowak", "Jensen", "Smith", "Kowalski", "Novak", "Berg", "Silva", "Meyer", "Moreau", "Costa", "Fischer", "Olsen", "Brown", "Weber", "Lopez", "Kim"}
	sites      = []string{"Amsterdam", "Berlin", "Chicago", "Dublin", "Lisbon", "Madrid", "Oslo", "Paris", "Seattle", "Tokyo"}
)

// generated is the LDIF and what the agent's filter must return.
type generated struct {
	ldif    string
	matched int // SIP-enabled accounts not disabled: the entries of the scan
}

// generate writes n AD-like users: SIP-enabled users in two SIP domains
// and a partner domain, with proxyAddresses (SMTP:, smtp:, SIP:, often
// X500:), mail, msRTCSIP-PrimaryUserAddress, userAccountControl and
// msRTCSIP-UserEnabled, plus the usual attributes the scan does not read,
// and a realistic share of problem users (see the share constants).
func generate(n int) generated {
	rng := rand.New(rand.NewPCG(5, 100_000))
	var b strings.Builder
	b.Grow(n * 700)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: contoso\no: Contoso\n\n", suffix)
	fmt.Fprintf(&b, "dn: OU=Service Accounts,%s\nobjectClass: organizationalUnit\nou: Service Accounts\n\n", suffix)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: person\ncn: svc-sfbex\nsn: svc\nuserPassword: %s\n\n", bindDN, password)
	for _, s := range sites {
		fmt.Fprintf(&b, "dn: OU=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n", s, suffix, s)
		fmt.Fprintf(&b, "dn: OU=Users,OU=%s,%s\nobjectClass: organizationalUnit\nou: Users\n\n", s, suffix)
	}
	var g generated
	prevSIP := ""
	for i := range n {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		local := fmt.Sprintf("%s.%s%d", strings.ToLower(first), strings.ToLower(last), i)
		domain := sipDomains[0]
		switch r := rng.Float64(); {
		case r < 0.01:
			domain = otherDomain
		case r < 0.20:
			domain = sipDomains[1]
		}
		addr := local + "@" + domain
		cn := fmt.Sprintf("%s %s %d", first, last, i)
		fmt.Fprintf(&b, "dn: CN=%s,OU=Users,OU=%s,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\n", cn, sites[i%len(sites)], suffix)
		fmt.Fprintf(&b, "cn: %s\nsn: %s\nsAMAccountName: %s%d\nuserPrincipalName: %s\ntitle: Engineer\ntelephoneNumber: +1 555 %07d\n",
			cn, last, strings.ToLower(first[:1]+last), i, addr, i)

		disabled := rng.Float64() < shareAccountDisabled
		uac := []string{"512", "66048"}[rng.IntN(2)]
		if disabled {
			uac = "514"
		}
		fmt.Fprintf(&b, "userAccountControl: %s\n", uac)

		sip := "sip:" + addr
		hasSIP := rng.Float64() >= shareNotSIP
		switch {
		case rng.Float64() < shareDuplicate && prevSIP != "":
			sip = prevSIP
		case rng.Float64() < shareInvalid:
			sip = "sip:" + cn + "@" + domain // spaces in the user part
		}
		if hasSIP {
			fmt.Fprintf(&b, "msRTCSIP-PrimaryUserAddress: %s\n", sip)
			enabled := "TRUE"
			if rng.Float64() < shareSIPDisabled {
				enabled = "FALSE"
			}
			fmt.Fprintf(&b, "msRTCSIP-UserEnabled: %s\n", enabled)
			prevSIP = sip
			if !disabled {
				g.matched++
			}
		}
		primary := addr
		if rng.Float64() < shareMismatch {
			primary = fmt.Sprintf("%s%s%d@%s", strings.ToLower(first[:1]), strings.ToLower(last), i, domain)
		}
		fmt.Fprintf(&b, "proxyAddresses: SMTP:%s\n", primary)
		if primary != addr {
			fmt.Fprintf(&b, "proxyAddresses: smtp:%s\n", addr)
		}
		fmt.Fprintf(&b, "proxyAddresses: smtp:%s@contoso.mail.onmicrosoft.com\n", local)
		if hasSIP && rng.Float64() >= shareNoSIPProxy {
			fmt.Fprintf(&b, "proxyAddresses: SIP:%s\n", addr)
		}
		if rng.Float64() < shareX500 {
			fmt.Fprintf(&b, "proxyAddresses: X500:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=%016x%016x-%s\n", rng.Uint64(), rng.Uint64(), local)
		}
		if rng.Float64() >= shareNoMail {
			fmt.Fprintf(&b, "mail: %s\n", primary)
		}
		b.WriteString("\n")
	}
	g.ldif = b.String()
	return g
}

// sample is one timed child process.
type sample struct {
	wall     time.Duration // fork/exec of /usr/bin/time to its reaped exit: the tool's whole life
	cpu      time.Duration // user+system CPU of the tool (/usr/bin/time %U+%S)
	slapdCPU time.Duration // user+system CPU slapd spent meanwhile (/proc/<pid>/stat)
	maxRSS   int64         // KiB, peak RSS of the tool (/usr/bin/time %M: its ru_maxrss)
	vmHWM    int64         // KiB, the largest VmHWM seen polling /proc/<pid>/status every 5 ms (a cross-check)
	scan     time.Duration // the agent's own ScanDuration (connect, bind, every page), from check --verbose
	check    time.Duration // the directory check's duration as the collector timed it
	entries  int
	stdout   []byte
}

var (
	detailRe = regexp.MustCompile(`: (\d+) entries in (\d+) pages in ([0-9.]+[a-zµ]+); filter`)
	checkRe  = regexp.MustCompile(`\] directory\s+\S+\s+\((\d+) ms\)`)
)

// runTimed runs the tool under /usr/bin/time, timing it from Start to the
// end of Wait. Peak RSS comes from /usr/bin/time, not from this process's
// wait4: a child forked from the (large) test process inherits its RSS
// high-water mark in ru_maxrss, while /usr/bin/time is small.
func runTimed(t *testing.T, slapdPID int, stdout *os.File, env []string, tool string, args ...string) sample {
	t.Helper()
	timeOut := filepath.Join(t.TempDir(), "time")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%e %U %S %M", "-o", timeOut, tool}, args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = &errb
	cpu0 := procCPU(slapdPID)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hwm := make(chan int64, 1)
	done := make(chan struct{})
	go func() { hwm <- pollHWM(cmd.Process.Pid, done) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	s := sample{wall: wall, slapdCPU: procCPU(slapdPID) - cpu0, vmHWM: <-hwm, stdout: out.Bytes()}
	if err != nil {
		// `check` exits 1 when a check fails; the caller checks the report.
		if _, ok := err.(*exec.ExitError); !ok || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("%s: %v\n%s\n%s", tool, err, out.Bytes(), errb.Bytes())
		}
	}
	b, err := os.ReadFile(timeOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 4 {
		t.Fatalf("/usr/bin/time wrote %q", b)
	}
	u, _ := strconv.ParseFloat(f[1], 64)
	sy, _ := strconv.ParseFloat(f[2], 64)
	s.cpu = time.Duration((u + sy) * float64(time.Second))
	s.maxRSS, _ = strconv.ParseInt(f[3], 10, 64)
	return s
}

// procCPU is the user+system CPU time of a process so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// pollHWM follows the child of /usr/bin/time (pid) and returns the largest
// VmHWM it saw.
func pollHWM(pid int, done <-chan struct{}) int64 {
	var peak int64
	children := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	status := ""
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if status == "" {
			if b, err := os.ReadFile(children); err == nil && len(bytes.TrimSpace(b)) > 0 {
				status = "/proc/" + strings.Fields(string(b))[0] + "/status"
			}
		}
		if b, err := os.ReadFile(status); status != "" && err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
					if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
						peak = max(peak, kb)
					}
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

func TestDirectoryBench(t *testing.T) {
	if os.Getenv("SFBEX_BENCH") != "1" {
		t.Skip("set SFBEX_BENCH=1 to run the directory benchmark (docs/performance.md#directory)")
	}
	infra.Require(t, "slapd", "slapadd", "ldapsearch")
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("/usr/bin/time is missing: apt-get install --no-install-recommends time")
	}
	ldapsearch, _ := infra.LookPath("ldapsearch")
	agent := infra.BuildAgent(t)

	t0 := time.Now()
	g := generate(*flagUsers)
	t.Logf("generated %d users (%.1f MB of LDIF, %d match the filter) in %s", *flagUsers, float64(len(g.ldif))/1e6, g.matched, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: suffix, LDIF: g.ldif})
	t.Logf("slapadd + slapd start: %s; slapd pid %d at %s", time.Since(t0).Round(time.Millisecond), s.PID(), s.URL)
	g.ldif = ""

	// The filter and attributes the agent sends, taken from the probe itself.
	p, err := directory.NewProber(directory.Config{URL: s.URL, BaseDN: suffix})
	if err != nil {
		t.Fatal(err)
	}
	filter := p.Filter()
	ldapArgs := append([]string{"-x", "-H", s.URL, "-D", bindDN, "-w", password, "-b", suffix,
		"-E", fmt.Sprintf("pr=%d/noprompt", pageSize), filter}, directory.Attributes...)
	runLdapsearch := func(stdout *os.File) sample {
		// LDAPNOINIT: no ~/.ldaprc or ldap.conf.
		return runTimed(t, s.PID(), stdout, []string{"PATH=/usr/bin:/bin", "LDAPNOINIT=1"}, ldapsearch, ldapArgs...)
	}
	// Only the directory does work: no email domains (no autodiscover), every
	// DNS record and derived TLS endpoint skipped, a resolver that is never asked.
	agentEnv := []string{
		"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(),
		"SFBEX_SIP_DOMAINS=" + strings.Join(sipDomains, ","),
		"SFBEX_EMAIL_DOMAINS=",
		"SFBEX_DNS_SKIP_RECORDS=" + strings.Join(dns.AllRecords, ","),
		"SFBEX_TLS_SKIP_ENDPOINTS=all", "SFBEX_LYNCDISCOVER_VIEWS=none", "SFBEX_SIP_ENABLED=false",
		"SFBEX_DNS_RESOLVERS=none=127.0.0.1:9",
		"SFBEX_LDAP_URL=" + s.URL, "SFBEX_LDAP_STARTTLS=false",
		"SFBEX_LDAP_BIND_DN=" + bindDN, "SFBEX_LDAP_PASSWORD=" + password,
		"SFBEX_LDAP_BASE_DN=" + suffix, fmt.Sprintf("SFBEX_LDAP_PAGE_SIZE=%d", pageSize),
	}
	if *flagAgentEnv != "" {
		agentEnv = append(agentEnv, strings.Split(*flagAgentEnv, ",")...)
	}
	runAgent := func() sample {
		r := runTimed(t, s.PID(), nil, agentEnv, agent, "check", "--verbose")
		// Only the DNS checks (every record skipped) and the directory scan may run.
		for _, l := range strings.Split(string(r.stdout), "\n") {
			if strings.HasPrefix(l, "[") && !strings.Contains(l, "] dns ") && !strings.Contains(l, "] directory ") {
				t.Fatalf("the agent ran a check other than dns and directory: %s", l)
			}
		}
		m := detailRe.FindSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no scan figures in the agent's report:\n%s", r.stdout)
		}
		r.entries, _ = strconv.Atoi(string(m[1]))
		r.scan, _ = time.ParseDuration(string(m[3]))
		if c := checkRe.FindSubmatch(r.stdout); c != nil {
			ms, _ := strconv.Atoi(string(c[1]))
			r.check = time.Duration(ms) * time.Millisecond
		}
		if r.entries != g.matched {
			t.Fatalf("the agent scanned %d entries, want %d:\n%s", r.entries, g.matched, r.stdout)
		}
		return r
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()

	// Warm-up, untimed: fills slapd's caches and checks both tools return
	// the same entries.
	warm := runLdapsearch(nil)
	if m := regexp.MustCompile(`# numEntries: (\d+)`).FindSubmatch(warm.stdout); m == nil || string(m[1]) != strconv.Itoa(g.matched) {
		t.Fatalf("ldapsearch returned %q entries, want %d", m, g.matched)
	}
	wa := runAgent()
	var report strings.Builder // without the offender samples
	for _, l := range strings.Split(string(wa.stdout), "\n") {
		if !strings.HasPrefix(l, strings.Repeat(" ", 11)) {
			report.WriteString(l + "\n")
		}
	}
	t.Logf("warm-up: ldapsearch %s, agent %s; the agent's report:\n%s", warm.wall.Round(time.Millisecond), wa.wall.Round(time.Millisecond), report.String())

	var ls, ag []sample
	for i := range *flagRuns {
		a := runLdapsearch(devnull)
		b := runAgent()
		ls, ag = append(ls, a), append(ag, b)
		t.Logf("run %d: ldapsearch %6.3fs (CPU %5.2fs, slapd CPU %5.2fs, %5.1f MiB) | agent %6.3fs, scan %6.3fs (CPU %5.2fs, slapd CPU %5.2fs), peak RSS %5.1f MiB (VmHWM polled %5.1f MiB)",
			i+1, a.wall.Seconds(), a.cpu.Seconds(), a.slapdCPU.Seconds(), mib(a.maxRSS), b.wall.Seconds(), b.scan.Seconds(), b.cpu.Seconds(), b.slapdCPU.Seconds(), mib(b.maxRSS), mib(b.vmHWM))
	}

	lw := median(ls, func(s sample) float64 { return s.wall.Seconds() })
	aw := median(ag, func(s sample) float64 { return s.wall.Seconds() })
	sc := median(ag, func(s sample) float64 { return s.scan.Seconds() })
	ck := median(ag, func(s sample) float64 { return s.check.Seconds() })
	rss := slices.MaxFunc(ag, func(a, b sample) int { return int(a.maxRSS - b.maxRSS) }).maxRSS
	hwm := slices.MaxFunc(ag, func(a, b sample) int { return int(a.vmHWM - b.vmHWM) }).vmHWM
	verdict := func(ok bool) string { return map[bool]string{true: "MET", false: "NOT MET"}[ok] }
	ratio := aw / lw
	var sum strings.Builder
	fmt.Fprintf(&sum, "directory benchmark: %d users, %d entries in %d pages of %d, median of %d runs, %s\n", *flagUsers, g.matched, (g.matched+pageSize-1)/pageSize, pageSize, *flagRuns, machine())
	cpu := func(x []sample) float64 { return median(x, func(s sample) float64 { return s.cpu.Seconds() }) }
	scpu := func(x []sample) float64 { return median(x, func(s sample) float64 { return s.slapdCPU.Seconds() }) }
	fmt.Fprintf(&sum, "  ldapsearch wall          %7.3f s   (its CPU %.2f s, slapd CPU %.2f s, peak RSS %.1f MiB)\n", lw, cpu(ls), scpu(ls), mib(median64(ls)))
	fmt.Fprintf(&sum, "  agent `check` wall       %7.3f s   (its CPU %.2f s, slapd CPU %.2f s)\n", aw, cpu(ag), scpu(ag))
	fmt.Fprintf(&sum, "  agent scan (own timing)  %7.3f s   (directory check as timed by the collector: %.3f s)\n", sc, ck)
	fmt.Fprintf(&sum, "  ratio agent wall / ldapsearch wall  %.2f×  target ≤ 1.3×: %s\n", ratio, verdict(ratio <= 1.3))
	fmt.Fprintf(&sum, "  ratio agent scan / ldapsearch wall  %.2f×\n", sc/lw)
	fmt.Fprintf(&sum, "  agent peak RSS (max of runs, ru_maxrss) %.1f MiB  target ≤ 64 MiB: %s   (VmHWM polled: %.1f MiB)\n", mib(rss), verdict(mib(rss) <= 64), mib(hwm))
	var load string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Fprintf(&sum, "  load average at the end: %s\n", load)
	t.Log("\n" + sum.String())

	if *flagCPUProfile != "" {
		profileScan(t, s.URL, *flagCPUProfile)
	}
}

// profileScan runs the same scan in this process under the CPU profiler.
func profileScan(t *testing.T, url, path string) {
	p, err := directory.NewProber(directory.Config{URL: url, BindDN: bindDN, Password: password, BaseDN: suffix,
		PageSize: pageSize, SIPDomains: sipDomains, MinCoverage: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := p.Probe(context.Background())
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("in-process scan: %d entries in %s; CPU profile in %s (go tool pprof -top %s)", r.(*directory.Result).Entries, time.Since(start).Round(time.Millisecond), path, path)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func median64(s []sample) int64 {
	return int64(median(s, func(x sample) float64 { return float64(x.maxRSS) }))
}

// machine describes where the figures come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if l, _, ok := strings.Cut(string(b), "\n"); ok {
			f := strings.Fields(l)
			if len(f) >= 2 {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
				}
			}
		}
	}
	slapdVersion := ""
	if sp, err := infra.LookPath("slapd"); err == nil {
		out, _ := exec.Command(sp, "-VV").CombinedOutput()
		if m := regexp.MustCompile(`slapd ([0-9][^ ]*)`).FindSubmatch(out); m != nil {
			slapdVersion = ", slapd " + string(m[1])
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s%s", runtime.NumCPU(), model, mem, runtime.Version(), slapdVersion)
}
