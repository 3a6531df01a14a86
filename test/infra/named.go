package infra

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	namedReadyTimeout  = 5 * time.Second
	namedReloadTimeout = 5 * time.Second
	namedStopGrace     = 5 * time.Second
	namedStartAttempts = 3
)

// Named is a bind9 named serving the caller's zones, authoritative only,
// on 127.0.0.1:<Port> (UDP and TCP). Start it with StartNamed.
type Named struct {
	// Addr is "127.0.0.1:<Port>".
	Addr string
	Port int
	// Dir is the temporary directory holding named.conf, the zone files
	// (zones/), the pid and session-key files and named.log.
	Dir string

	t         testing.TB
	named     string // path of the named binary
	checkConf string
	checkZone string
	confPath  string
	logPath   string

	mu    sync.Mutex
	zones map[string]string // zone name (lower case, no trailing dot) -> zone file path
	// StatsURL is the statistics channel's JSON (StartNamedWithStats only).
	StatsURL  string
	statsPort int
	proc      *process
}

// StartNamed writes named.conf and one zone file per entry of zones into a
// t.TempDir(), checks them with named-checkconf and named-checkzone, starts
// `named -g -c named.conf` on a free 127.0.0.1 port and waits (up to 5 s)
// until it answers a SOA query for every zone.
//
// zones maps a zone name ("example.com") to the full zone-file text: the
// caller writes $TTL, $ORIGIN if wanted, the SOA and the NS records.
// Relative names in the text are relative to the zone name.
//
// The server listens on 127.0.0.1 only (named -4, listen-on-v6 none), has
// no recursion, no zone transfers and no control channel (so reloads are
// SIGHUPs). It runs as the current user: as root it needs no -u on a high
// port. A t.Cleanup stops it by PID. Requires named, named-checkconf and
// named-checkzone (see Require).
func StartNamed(t testing.TB, zones map[string]string) *Named {
	t.Helper()
	return startNamed(t, zones, false)
}

// StartNamedWithStats is StartNamed plus bind9's statistics channel on
// loopback (StatsURL, JSON), so a benchmark can count the queries the
// server answered.
func StartNamedWithStats(t testing.TB, zones map[string]string) *Named {
	t.Helper()
	return startNamed(t, zones, true)
}

func startNamed(t testing.TB, zones map[string]string, withStats bool) *Named {
	t.Helper()
	Require(t, "named", "named-checkconf", "named-checkzone")
	n := &Named{t: t, Dir: t.TempDir(), zones: map[string]string{}}
	n.named, _ = LookPath("named")
	n.checkConf, _ = LookPath("named-checkconf")
	n.checkZone, _ = LookPath("named-checkzone")
	n.confPath = filepath.Join(n.Dir, "named.conf")
	n.logPath = filepath.Join(n.Dir, "named.log")
	if err := os.Mkdir(filepath.Join(n.Dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}

	names := make([]string, 0, len(zones))
	for name := range zones {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := n.zoneFile(name)
		writeFile(t, path, zones[name])
		n.zones[zoneKey(name)] = path
	}
	for _, name := range names {
		n.checkZoneFile(t, zoneKey(name), n.zones[zoneKey(name)])
	}

	logOnFailure(t, "named", n.logPath)
	t.Cleanup(n.Stop)

	err := StartOnFreePorts(t, "named", namedStartAttempts, func() (string, error) {
		n.Port = FreePort(t)
		n.Addr = fmt.Sprintf("127.0.0.1:%d", n.Port)
		if withStats {
			n.statsPort = FreePort(t)
			n.StatsURL = fmt.Sprintf("http://127.0.0.1:%d/json/v1/server", n.statsPort)
		}
		n.writeConf(t)
		logStart := fileSize(n.logPath)
		n.mu.Lock()
		defer n.mu.Unlock()
		err := n.startLocked()
		if err == nil && withStats {
			err = n.waitStats()
		}
		if err != nil {
			// Stop it before the next attempt starts another (startLocked
			// already did when named never got ready).
			if n.proc != nil {
				n.proc.stop(namedStopGrace)
			}
			return readLogFrom(n.logPath, logStart), err
		}
		return "", nil
	})
	if err != nil {
		t.Fatalf("StartNamed: %v", err)
	}
	return n
}

// zoneKey normalises a zone name: lower case, no trailing dot ("." stays).
func zoneKey(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name != "." {
		name = strings.TrimSuffix(name, ".")
	}
	return name
}

// zoneFile is the path of a zone's file: zones/<name>.zone with anything
// unusual in the name replaced.
func (n *Named) zoneFile(name string) string {
	key := zoneKey(name)
	if key == "." {
		key = "root"
	}
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, key)
	return filepath.Join(n.Dir, "zones", safe+".zone")
}

func (n *Named) writeConf(t testing.TB) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `// written by test/infra for one test
options {
	directory %[1]q;
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	allow-transfer { none; };
	notify no;
	dnssec-validation no;
	pid-file %[3]q;
	session-keyfile %[4]q;
	managed-keys-directory %[1]q;
};
controls { };
`, n.Dir, n.Port, filepath.Join(n.Dir, "named.pid"), filepath.Join(n.Dir, "session.key"))
	if n.statsPort > 0 {
		fmt.Fprintf(&b, "statistics-channels { inet 127.0.0.1 port %d allow { 127.0.0.1; }; };\n", n.statsPort)
	}
	n.mu.Lock()
	keys := make([]string, 0, len(n.zones))
	for k := range n.zones {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "zone %q { type primary; file %q; };\n", k, n.zones[k])
	}
	n.mu.Unlock()
	writeFile(t, n.confPath, b.String())
	if out, err := exec.Command(n.checkConf, n.confPath).CombinedOutput(); err != nil {
		t.Fatalf("named-checkconf %s: %v\n%s\n--- named.conf:\n%s", n.confPath, err, out, b.String())
	}
}

func (n *Named) checkZoneFile(t testing.TB, key, path string) {
	t.Helper()
	if out, err := exec.Command(n.checkZone, key, path).CombinedOutput(); err != nil {
		text, _ := os.ReadFile(path)
		t.Fatalf("named-checkzone %s %s: %v\n%s\n--- zone file:\n%s", key, path, err, out, text)
	}
}

// startLocked starts named and waits until it serves every zone. n.mu held.
func (n *Named) startLocked() error {
	env := filterEnv(os.Environ())
	p, err := startProcess("named", n.logPath, n.Dir, env, n.named, "-g", "-4", "-c", n.confPath)
	if err != nil {
		return err
	}
	n.proc = p
	deadline := time.Now().Add(namedReadyTimeout)
	for {
		err := n.servesAll(p)
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("named exited before it was ready (%v); see its output", p.waitErr)
		}
		if time.Now().After(deadline) {
			p.stop(namedStopGrace)
			return fmt.Errorf("named not ready after %v: %v", namedReadyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// servesAll checks that every zone answers its SOA over UDP and one over TCP.
func (n *Named) servesAll(p *process) error {
	first := true
	for key := range n.zones {
		if _, err := n.soaSerial(key, "udp"); err != nil {
			return err
		}
		if first {
			first = false
			if _, err := n.soaSerial(key, "tcp"); err != nil {
				return err
			}
		}
	}
	if len(n.zones) == 0 && p.exited() {
		return fmt.Errorf("named exited")
	}
	return nil
}

// soaSerial asks the server for the zone's SOA and returns its serial.
func (n *Named) soaSerial(zone, network string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	c := &dns.Client{Net: network, Timeout: 250 * time.Millisecond}
	r, _, err := c.Exchange(m, n.Addr)
	if err != nil {
		return 0, fmt.Errorf("SOA %s over %s: %w", zone, network, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("SOA %s over %s: rcode %s", zone, network, dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("SOA %s over %s: no SOA in the answer", zone, network)
}

// servedSerial returns the zone's SOA serial as served now, retrying lost
// packets for up to 2 s (a loaded machine drops or delays UDP).
func (n *Named) servedSerial(zone string) (uint32, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		cur, err := n.soaSerial(zone, "udp")
		if err == nil || time.Now().After(deadline) {
			return cur, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Exchange sends one query for name and type (dns.TypeA, ...) to the
// server over UDP and returns the answer, failing the test on a transport
// error.
func (n *Named) Exchange(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, n.Addr)
	if err != nil {
		t.Fatalf("query %s %s at %s: %v", name, dns.TypeToString[qtype], n.Addr, err)
	}
	return r
}

// SetZone replaces the text of zone name (or adds a new zone), makes named
// reload (SIGHUP; there is no control channel for rndc) and waits until it
// serves the new SOA serial.
//
// The caller MUST give the new text a higher SOA serial than the one being
// served: the serial is how SetZone sees that the reload is complete. A text
// whose serial is already served fails the test.
func (n *Named) SetZone(t testing.TB, name, content string) {
	t.Helper()
	key := zoneKey(name)
	want, err := zoneSerial(key, content)
	if err != nil {
		t.Fatalf("SetZone %s: %v", key, err)
	}

	n.mu.Lock()
	path, known := n.zones[key]
	proc := n.proc
	n.mu.Unlock()
	if proc == nil || proc.exited() {
		t.Fatalf("SetZone %s: named is not running", key)
	}
	if known {
		cur, err := n.servedSerial(key)
		if err != nil {
			t.Fatalf("SetZone %s: before the change: %v", key, err)
		}
		if cur == want {
			t.Fatalf("SetZone %s: serial %d is already served; bump the SOA serial in the new text", key, want)
		}
	}

	// Write the new text next to the file and check it before it replaces
	// the served one.
	if !known {
		path = n.zoneFile(key)
	}
	tmp := path + ".new"
	writeFile(t, tmp, content)
	n.checkZoneFile(t, key, tmp)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if !known {
		n.mu.Lock()
		n.zones[key] = path
		n.mu.Unlock()
		n.writeConf(t)
	}

	deadline := time.Now().Add(namedReloadTimeout)
	var last string
	for attempt := 0; ; attempt++ {
		// named reloads a zone whose file is newer than its last load; a
		// second SIGHUP with a fresh mtime covers a coarse file clock.
		if attempt > 0 {
			now := time.Now()
			_ = os.Chtimes(path, now, now)
		}
		if err := proc.signal(syscall.SIGHUP); err != nil {
			t.Fatalf("SetZone %s: SIGHUP: %v", key, err)
		}
		next := time.Now().Add(time.Second)
		for time.Now().Before(next) {
			cur, err := n.soaSerial(key, "udp")
			switch {
			case err != nil:
				last = err.Error()
			case cur == want:
				return
			default:
				last = fmt.Sprintf("serving serial %d", cur)
			}
			if proc.exited() {
				t.Fatalf("SetZone %s: named exited during the reload: %v", key, proc.waitErr)
			}
			if time.Now().After(deadline) {
				t.Fatalf("SetZone %s: serial %d not served after %v (%s); did the serial go up?",
					key, want, namedReloadTimeout, last)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// zoneSerial parses zone text and returns the serial of its SOA.
func zoneSerial(zone, content string) (uint32, error) {
	origin := dns.Fqdn(zone)
	zp := dns.NewZoneParser(strings.NewReader(content), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if soa, isSOA := rr.(*dns.SOA); isSOA && strings.EqualFold(soa.Hdr.Name, origin) {
			return soa.Serial, nil
		}
	}
	if err := zp.Err(); err != nil {
		return 0, fmt.Errorf("parse zone text: %w", err)
	}
	return 0, fmt.Errorf("zone text has no SOA for %s", origin)
}

// Stop stops named by its PID (SIGTERM, SIGKILL after 5 s). Idempotent.
func (n *Named) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return
	}
	if n.proc.stop(namedStopGrace) {
		n.t.Logf("named (pid %d) ignored SIGTERM for %v and was killed", n.proc.pid(), namedStopGrace)
	}
}

// Restart stops named and starts it again on the same port with the same
// files, and waits until it serves every zone.
func (n *Named) Restart(t testing.TB) {
	t.Helper()
	n.Stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.startLocked(); err != nil {
		t.Fatalf("Restart named: %v", err)
	}
}

// PID of the running named, 0 if none was started.
func (n *Named) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.pid()
}

// Log returns named's output so far.
func (n *Named) Log() string { return readLog(n.logPath, 1<<20) }

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitStats polls the statistics channel until it answers (up to 5 s).
func (n *Named) waitStats() error {
	// Bounded per request: whatever holds the port may accept and say nothing.
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.Get(n.StatsURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("named's statistics channel %s did not answer: %v", n.StatsURL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
