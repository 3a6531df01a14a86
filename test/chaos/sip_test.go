package chaos

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// sipPeer is a TLS server on 127.0.0.1 that completes the handshake and
// then misbehaves as behave says. It records how long the agent kept each
// connection open, and closes everything when the test ends.
type sipPeer struct {
	addr    string
	conns   atomic.Int64
	longest atomic.Int64 // ns, from the handshake to the agent's close
}

func startSIPPeer(t *testing.T, cert tls.Certificate, behave func(c *tls.Conn, done <-chan struct{})) *sipPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sipPeer{addr: ln.Addr().String()}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
				_ = tc.SetDeadline(time.Now().Add(time.Minute))
				if tc.Handshake() != nil {
					return
				}
				start := time.Now()
				behave(tc, done)
				p.conns.Add(1)
				if d := int64(time.Since(start)); d > p.longest.Load() {
					p.longest.Store(d)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

// untilClosed reads (and drops) what the agent sends until it closes.
func untilClosed(c *tls.Conn) { _, _ = io.Copy(io.Discard, c) }

// TestFaultSIP: three SIP-over-TLS peers that complete the handshake and
// then say nothing, send random bytes, or trickle the start of an answer
// one byte at a time. Each ends in its own outcome (no_answer, malformed,
// incomplete) within SFBEX_SIP_REQUEST_TIMEOUT, none counts as answering,
// the status page explains each, /metrics answers fast throughout, and
// goroutines do not pile up run over run.
func TestFaultSIP(t *testing.T) {
	const requestTimeout = 2 * time.Second
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	names := []string{"silent.sip.chaos.test", "garbage.sip.chaos.test", "trickle.sip.chaos.test"}
	cert := chaosCert(t, caFile, names...)

	silent := startSIPPeer(t, cert, func(c *tls.Conn, _ <-chan struct{}) { untilClosed(c) })
	garbage := startSIPPeer(t, cert, func(c *tls.Conn, _ <-chan struct{}) {
		b := make([]byte, 2048)
		_, _ = rand.Read(b)
		_, _ = c.Write(b)
		untilClosed(c)
	})
	trickle := startSIPPeer(t, cert, func(c *tls.Conn, done <-chan struct{}) {
		answer := "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKchaos\r\nServer: RTC/7.0\r\n" + strings.Repeat("X-Padding: slow\r\n", 1000)
		closed := make(chan struct{})
		go func() { untilClosed(c); close(closed) }()
		for i := range len(answer) {
			if _, err := c.Write([]byte{answer[i]}); err != nil {
				return
			}
			select {
			case <-closed:
				return
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	peers := map[string]*sipPeer{names[0]: silent, names[1]: garbage, names[2]: trickle}

	var targets, connectTo []string
	for _, n := range names {
		targets = append(targets, n+":5061")
		connectTo = append(connectTo, n+":5061="+peers[n].addr)
	}
	dnsAddr, _ := startDNS(t, goodDNS)
	env := append(dnsEnv("internal="+dnsAddr),
		"SFBEX_DNS_INTERVAL=1m", "SFBEX_DNS_TIMEOUT=5s",
		"SFBEX_SIP_SERVICES=none",
		"SFBEX_SIP_TARGETS="+strings.Join(targets, ","),
		"SFBEX_CONNECT_TO="+strings.Join(connectTo, ","),
		"SFBEX_CA_FILE="+caFile,
		"SFBEX_SIP_INTERVAL=4s",
		"SFBEX_SIP_TIMEOUT=4s",
		fmt.Sprintf("SFBEX_SIP_REQUEST_TIMEOUT=%s", requestTimeout),
	)
	a := infra.StartAgent(t, infra.BuildAgent(t), nil, env)
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, n := pick(series(t, a), "sfbex_probe_runs_total", `probe="sip"`); n > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the agent has run no SIP check in 10 s: is the family (probes/sip) registered in the agent (probes/all)?")
		}
	}

	// /metrics stays fast while the checks wait on the three peers: a
	// scrape only copies what the runs rendered.
	var slowest time.Duration
	for end := time.Now().Add(3 * requestTimeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		start := time.Now()
		_ = series(t, a)
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest /metrics while the SIP peers misbehave: %s", slowest)
	if slowest > time.Second {
		t.Errorf("a scrape took %s while SIP checks waited on misbehaving peers", slowest)
	}

	watchGoroutines(t, a, "sip", 3, 4*time.Second)

	m := series(t, a)
	for host, want := range map[string]string{names[0]: "no_answer", names[1]: "malformed", names[2]: "incomplete"} {
		tl := `target="` + host + `:5061"`
		up, _ := pick(m, "sfbex_sip_up", tl)
		o, n := pick(m, "sfbex_sip_outcome", tl, `outcome="`+want+`"`)
		if len(up) != 1 || n != 1 {
			all, _ := pick(m, "sfbex_sip_outcome", tl)
			t.Errorf("%s: up %v, outcome %v, want %s (%v)", host, up, all, want, o)
		}
		for k, v := range up {
			if v != 0 {
				t.Errorf("%s = %v: a misbehaving peer counted as answering", k, v)
			}
		}
		p := peers[host]
		if p.conns.Load() == 0 {
			t.Errorf("%s: the agent never closed its connection", host)
		} else if d := time.Duration(p.longest.Load()); d > requestTimeout+time.Second {
			t.Errorf("%s: the agent held a connection %s (request timeout %s)", host, d, requestTimeout)
		} else {
			t.Logf("%s: %d connections, the longest held %s", host, p.conns.Load(), d.Round(time.Millisecond))
		}
	}
	page := text(t, a, "/")
	mustContainAny(t, "the status page (silent)", page, "no answer within the deadline")
	mustContainAny(t, "the status page (garbage)", page, "not a SIP answer")
	mustContainAny(t, "the status page (trickle)", page, "no whole SIP answer within the deadline")
	stillUp(t, a)
}
