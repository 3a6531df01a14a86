package infra

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func testZone(serial int, www string) string {
	return fmt.Sprintf(`$ORIGIN example.test.
$TTL 60
@	IN SOA ns1 hostmaster %d 3600 600 86400 60
@	IN NS ns1
ns1	IN A 127.0.0.1
www	IN A %s
`, serial, www)
}

// lookupA asks n for name's A records over network ("udp" or "tcp").
func lookupA(t *testing.T, n *Named, network, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, n.Addr)
	if err != nil {
		t.Fatalf("A %s over %s: %v", name, network, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		t.Fatalf("A %s over %s: rcode %s, aa=%v", name, network, dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

func wantA(t *testing.T, n *Named, name string, want ...string) {
	t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		got := lookupA(t, n, network, name)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("A %s over %s = %v, want %v", name, network, got, want)
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func TestNamed(t *testing.T) {
	start := time.Now()
	n := StartNamed(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
	t.Logf("named ready in %v on %s (pid %d)", time.Since(start), n.Addr, n.PID())

	if host, _, _ := net.SplitHostPort(n.Addr); host != "127.0.0.1" {
		t.Fatalf("Addr = %q, want 127.0.0.1:<port>", n.Addr)
	}
	wantA(t, n, "www.example.test", "192.0.2.1")

	// Not authoritative for anything else, and no recursion.
	if r := n.Exchange(t, "www.example.org", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("query outside its zones: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}

	t.Run("SetZone", func(t *testing.T) {
		start := time.Now()
		n.SetZone(t, "example.test", testZone(2, "192.0.2.2"))
		t.Logf("reload seen in %v", time.Since(start))
		wantA(t, n, "www.example.test", "192.0.2.2")

		// Twice within a second: named's check of the file's mtime must
		// still see the change.
		n.SetZone(t, "example.test.", testZone(3, "192.0.2.3"))
		wantA(t, n, "www.example.test", "192.0.2.3")
	})

	t.Run("SetZone without a new serial fails", func(t *testing.T) {
		f := runFake(t, func(tb testing.TB) { n.SetZone(tb, "example.test", testZone(3, "192.0.2.99")) })
		if !strings.Contains(f.fatal, "bump the SOA serial") {
			t.Fatalf("want a failure asking for a new serial, got %q", f.fatal)
		}
		wantA(t, n, "www.example.test", "192.0.2.3")
	})

	t.Run("SetZone with a broken zone fails before reloading", func(t *testing.T) {
		f := runFake(t, func(tb testing.TB) {
			n.SetZone(tb, "example.test", testZone(9, "192.0.2.9")+"bad IN A not-an-address\n")
		})
		if !strings.Contains(f.fatal, "named-checkzone") {
			t.Fatalf("want a named-checkzone failure, got %q", f.fatal)
		}
		wantA(t, n, "www.example.test", "192.0.2.3")
	})

	t.Run("SetZone adds a zone", func(t *testing.T) {
		n.SetZone(t, "other.test", `$TTL 60
@	IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 60
@	IN NS ns1.example.test.
sip	IN A 192.0.2.50
`)
		wantA(t, n, "sip.other.test", "192.0.2.50")
		wantA(t, n, "www.example.test", "192.0.2.3")
	})

	t.Run("Restart", func(t *testing.T) {
		old := n.PID()
		n.Restart(t)
		if n.PID() == old || processAlive(old) {
			t.Fatalf("pid %d → %d, old alive: %v", old, n.PID(), processAlive(old))
		}
		wantA(t, n, "www.example.test", "192.0.2.3")
		wantA(t, n, "sip.other.test", "192.0.2.50")
	})

	pid := n.PID()
	n.Stop()
	n.Stop() // idempotent
	if processAlive(pid) {
		t.Fatalf("named pid %d alive after Stop", pid)
	}
}

func TestNamedConfig(t *testing.T) {
	n := StartNamed(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
	conf, err := os.ReadFile(filepath.Join(n.Dir, "named.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("listen-on port %d { 127.0.0.1; };", n.Port),
		"listen-on-v6 { none; };",
		"recursion no;",
		"controls { };",
		filepath.Join(n.Dir, "named.pid"),
		filepath.Join(n.Dir, "session.key"),
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("named.conf lacks %q:\n%s", want, conf)
		}
	}
	pidFile, err := os.ReadFile(filepath.Join(n.Dir, "named.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(pidFile)); got != fmt.Sprint(n.PID()) {
		t.Errorf("named.pid = %s, want the started process %d", got, n.PID())
	}
}

// Two servers at once, with different data: what split-brain tests need.
func TestNamedTwoInstances(t *testing.T) {
	a := StartNamed(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
	b := StartNamed(t, map[string]string{"example.test": testZone(1, "198.51.100.1")})
	if a.Addr == b.Addr {
		t.Fatalf("both on %s", a.Addr)
	}
	wantA(t, a, "www.example.test", "192.0.2.1")
	wantA(t, b, "www.example.test", "198.51.100.1")
}

func TestStartNamedRejectsBrokenZone(t *testing.T) {
	Require(t, "named", "named-checkconf", "named-checkzone")
	f := runFake(t, func(tb testing.TB) {
		StartNamed(tb, map[string]string{"example.test": "$TTL 60\n@ IN A 192.0.2.1\n"}) // no SOA
	})
	if !strings.Contains(f.fatal, "named-checkzone") {
		t.Fatalf("want a named-checkzone failure, got %q", f.fatal)
	}
}

func TestZoneSerial(t *testing.T) {
	got, err := zoneSerial("example.test", testZone(2024010203, "192.0.2.1"))
	if err != nil || got != 2024010203 {
		t.Fatalf("zoneSerial = %d, %v", got, err)
	}
	if _, err := zoneSerial("example.test", "$TTL 60\n@ IN NS ns1\n"); err == nil {
		t.Fatal("zoneSerial of text without SOA: no error")
	}
}

// The statistics channel counts the queries the server answered.
func TestNamedWithStats(t *testing.T) {
	Require(t, "named", "named-checkconf", "named-checkzone")
	n := StartNamedWithStats(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
	queries := func() float64 {
		resp, err := http.Get(n.StatsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct {
			Opcodes map[string]float64 `json:"opcodes"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s.Opcodes["QUERY"]
	}
	before := queries()
	for range 3 {
		n.Exchange(t, "www.example.test.", dns.TypeA)
	}
	if got := queries() - before; got != 3 {
		t.Fatalf("statistics counted %v queries, want 3", got)
	}
}
