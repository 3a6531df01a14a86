package infra

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

// takePort makes call number n (from 1) of FreePort return a port that a
// TCP listener of this test holds, as if another program had bound it
// after FreePort chose it. It returns that port.
func takePort(t *testing.T, n int) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	taken := ln.Addr().(*net.TCPAddr).Port
	real := freePort
	calls := 0
	freePort = func() (int, error) {
		calls++
		if calls == n {
			return taken, nil
		}
		return real()
	}
	t.Cleanup(func() { freePort = real })
	return taken
}

func TestPortTaken(t *testing.T) {
	for out, want := range map[string]bool{
		`err="listen tcp 127.0.0.1:4000: bind: address already in use"`:    true, // Go servers
		"daemon: bind(6) failed errno=98 (Address already in use)":         true, // slapd
		"creating TCP socket: address in use":                              true, // named
		"fakeagent: listen tcp 127.0.0.1:1: bind: permission denied":       false,
		"named exited before it was ready (exit status 1); see its output": false,
		"": false,
	} {
		if got := PortTaken(out); got != want {
			t.Errorf("PortTaken(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestStartOnFreePorts(t *testing.T) {
	taken := errors.New("not ready")
	t.Run("retries on a taken port", func(t *testing.T) {
		calls := 0
		err := StartOnFreePorts(t, "server", 3, func() (string, error) {
			calls++
			if calls == 1 {
				return "bind: address already in use", taken
			}
			return "", nil
		})
		if err != nil || calls != 2 {
			t.Fatalf("err %v after %d calls, want nil after 2", err, calls)
		}
	})
	t.Run("other failures end it", func(t *testing.T) {
		calls := 0
		err := StartOnFreePorts(t, "server", 3, func() (string, error) {
			calls++
			return "syntax error in the configuration", taken
		})
		if !errors.Is(err, taken) || calls != 1 {
			t.Fatalf("err %v after %d calls, want %v after 1", err, calls, taken)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		calls := 0
		err := StartOnFreePorts(t, "server", 3, func() (string, error) {
			calls++
			return "address already in use", taken
		})
		if !errors.Is(err, taken) || calls != 3 || !strings.Contains(err.Error(), "each of 3 attempts") {
			t.Fatalf("err %v after %d calls", err, calls)
		}
	})
}

// Each starter of a server process gets over a port taken between FreePort
// and the server's bind: the server fails to bind it, and the starter tries
// another port.
func TestStartersRetryOnATakenPort(t *testing.T) {
	t.Run("agent", func(t *testing.T) {
		bin := Build(t, fakeAgent)
		taken := takePort(t, 1)
		a := StartAgent(t, bin, nil, nil)
		if a.Port == taken {
			t.Fatalf("agent on the taken port %d", taken)
		}
	})
	t.Run("named", func(t *testing.T) {
		Require(t, "named", "named-checkconf", "named-checkzone")
		taken := takePort(t, 1)
		n := StartNamed(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
		if n.Port == taken {
			t.Fatalf("named on the taken port %d", taken)
		}
		wantA(t, n, "www.example.test", "192.0.2.1")
	})
	t.Run("named statistics channel", func(t *testing.T) {
		Require(t, "named", "named-checkconf", "named-checkzone")
		taken := takePort(t, 2)
		n := StartNamedWithStats(t, map[string]string{"example.test": testZone(1, "192.0.2.1")})
		if strings.Contains(n.StatsURL, ":"+strconv.Itoa(taken)+"/") {
			t.Fatalf("statistics channel on the taken port %d", taken)
		}
	})
	t.Run("slapd", func(t *testing.T) {
		Require(t, "slapd", "slapadd")
		taken := takePort(t, 1)
		s := StartSlapd(t, SlapdOptions{
			Suffix: "DC=contoso,DC=test",
			LDIF:   "dn: DC=contoso,DC=test\nobjectClass: dcObject\nobjectClass: organization\ndc: contoso\no: Contoso\n",
		})
		if strings.HasSuffix(s.URL, ":"+strconv.Itoa(taken)) {
			t.Fatalf("slapd on the taken port %d", taken)
		}
	})
	t.Run("prometheus", func(t *testing.T) {
		Require(t, "prometheus", "promtool")
		taken := takePort(t, 1)
		p := StartPrometheus(t, "global:\n  scrape_interval: 1m\n", nil)
		if strings.HasSuffix(p.URL, ":"+strconv.Itoa(taken)) {
			t.Fatalf("prometheus on the taken port %d", taken)
		}
	})
}
