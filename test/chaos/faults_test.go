package chaos

// Faults (issue 8): the real agent against servers and inputs that
// misbehave. Each test starts its own misbehaving server on 127.0.0.1 and
// asserts through /metrics, /api/checks and the status page that the
// agent stays up, explains the case in words, raises no false alert
// condition and does not leak goroutines run over run.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/loopback"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// goroutineGrowth is how much go_goroutines may grow from the first
// sampled run to the last before the test calls it a leak.
const goroutineGrowth = 8

var faultClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// series reads /metrics whole: series ("name{labels}") → value.
func series(t *testing.T, a *infra.Agent) map[string]float64 {
	t.Helper()
	var last error
	for try := 0; try < 50; try++ {
		resp, err := faultClient.Get(a.URL + "/metrics")
		if err == nil && resp.StatusCode == http.StatusOK {
			out := map[string]float64{}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if line == "" || line[0] == '#' {
					continue
				}
				i := strings.LastIndexByte(line, ' ')
				if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
					out[line[:i]] = v
				}
			}
			resp.Body.Close()
			if err := sc.Err(); err == nil {
				return out
			}
			last = sc.Err()
		} else if err == nil {
			resp.Body.Close()
			last = fmt.Errorf("GET /metrics: %s", resp.Status)
		} else {
			last = err
		}
		if exited, werr := a.Exited(); exited {
			t.Fatalf("the agent exited: %v", werr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/metrics does not answer: %v", last)
	return nil
}

// pick returns the series of metric name whose labels contain every one
// of subs (e.g. `record="sip"`), and their sum.
func pick(m map[string]float64, name string, subs ...string) (map[string]float64, float64) {
	out := map[string]float64{}
	sum := 0.0
next:
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		for _, s := range subs {
			if !strings.Contains(k, s) {
				continue next
			}
		}
		out[k] = v
		sum += v
	}
	return out, sum
}

// must is pick's sum for series that have to be there: the test fails when
// none matches (an absent series is not a 0).
func must(t *testing.T, m map[string]float64, name string, subs ...string) float64 {
	t.Helper()
	p, sum := pick(m, name, subs...)
	if len(p) == 0 {
		t.Fatalf("no series %s with %q", name, subs)
	}
	return sum
}

// text GETs a page of the agent and returns its body.
func text(t *testing.T, a *infra.Agent, path string) string {
	t.Helper()
	resp, err := faultClient.Get(a.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", path, resp.Status, err)
	}
	return string(b)
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// runs is sfbex_probe_runs_total of a family.
func runs(t *testing.T, a *infra.Agent, probe string) float64 {
	_, n := pick(series(t, a), "sfbex_probe_runs_total", `probe="`+probe+`"`)
	return n
}

// watchGoroutines waits for n more runs of probe, sampling go_goroutines
// after each, and fails when the count grows beyond goroutineGrowth from
// the first sample to the lowest of the last two (a leak grows every run).
func watchGoroutines(t *testing.T, a *infra.Agent, probe string, n int, perRun time.Duration) {
	t.Helper()
	var gs []float64
	r0 := runs(t, a, probe)
	for i := 1; i <= n; i++ {
		waitFor(t, perRun*3, fmt.Sprintf("run %d of %s", i, probe), func() bool { return runs(t, a, probe) >= r0+float64(i) })
		g := must(t, series(t, a), "go_goroutines")
		gs = append(gs, g)
	}
	t.Logf("go_goroutines after each %s run: %v", probe, gs)
	if last := min(gs[len(gs)-1], gs[len(gs)-2]); last > gs[0]+goroutineGrowth {
		t.Errorf("goroutines grow run over run: %v (limit %v)", gs, gs[0]+goroutineGrowth)
	}
}

// mustContainAny fails unless s holds one of words (case-insensitive).
func mustContainAny(t *testing.T, where, s string, words ...string) {
	t.Helper()
	ls := strings.ToLower(s)
	for _, w := range words {
		if i := strings.Index(ls, strings.ToLower(w)); i >= 0 {
			t.Logf("%s explains it: …%s…", where, strings.Join(strings.Fields(s[max(0, i-80):min(len(s), i+80)]), " "))
			return
		}
	}
	t.Errorf("%s does not explain the case: none of %q in it (%d bytes)", where, words, len(s))
}

// stillUp fails when the agent has exited.
func stillUp(t *testing.T, a *infra.Agent) {
	t.Helper()
	if exited, err := a.Exited(); exited {
		t.Fatalf("the agent exited: %v", err)
	}
	_ = series(t, a)
}

// ---- DNS ----

const chaosDomain = "chaos.test"

// goodDNS answers A sip.chaos.test with 192.0.2.10 and NXDOMAIN for
// everything else.
func goodDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) == 1 && strings.EqualFold(q.Question[0].Name, "sip."+chaosDomain+".") {
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR("sip." + chaosDomain + ". 60 IN A 192.0.2.10")
			m.Answer = append(m.Answer, rr)
		}
	} else {
		m.Rcode = dns.RcodeNameError
	}
	soa, _ := dns.NewRR(chaosDomain + ". 60 IN SOA ns." + chaosDomain + ". h." + chaosDomain + ". 1 60 60 60 60")
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, soa)
	}
	_ = w.WriteMsg(m)
}

// startDNS serves h over UDP and TCP on one port of 127.0.0.1; stop is
// idempotent and also runs in t.Cleanup.
func startDNS(t *testing.T, h dns.HandlerFunc) (addr string, stop func()) {
	t.Helper()
	pc, ln, err := loopback.ListenPair()
	if err != nil {
		t.Fatal(err)
	}
	srvs := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, srv := range srvs {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			for _, srv := range srvs {
				_ = srv.Shutdown()
			}
		})
	}
	t.Cleanup(stop)
	return pc.LocalAddr().String(), stop
}

// dnsEnv is the configuration of a DNS-only agent on chaosDomain.
func dnsEnv(resolvers string) []string {
	return []string{
		"SFBEX_SIP_DOMAINS=" + chaosDomain,
		"SFBEX_EMAIL_DOMAINS=",
		"SFBEX_DEPLOYMENT=onprem",
		"SFBEX_DNS_RESOLVERS=" + resolvers,
		"SFBEX_DNS_INTERNAL_RESOLVERS=internal",
		"SFBEX_DNS_INTERVAL=1s",
		"SFBEX_DNS_TIMEOUT=1s",
		"SFBEX_DNS_QUERY_TIMEOUT=300ms",
		"SFBEX_TLS_SKIP_ENDPOINTS=all",
		"SFBEX_LYNCDISCOVER_VIEWS=",
		"SFBEX_EXCHANGE_METADATA_URLS=none",
	}
}

// TestFaultDNSServerGone: one good answer, then the DNS server stops. The
// lookups must fail (timeout or error), the last answer stay shown and
// marked stale, and no drift be counted.
func TestFaultDNSServerGone(t *testing.T) {
	addr, stop := startDNS(t, goodDNS)
	a := infra.StartAgent(t, infra.BuildAgent(t), nil, dnsEnv("internal="+addr))
	sip := []string{`record="sip"`, `resolver="internal"`}

	var present0, changes0, fp0 float64
	waitFor(t, 10*time.Second, "a definitive answer for sip", func() bool {
		m := series(t, a)
		p, _ := pick(m, "sfbex_dns_record_present", sip...)
		_, fp0 = pick(m, "sfbex_dns_answer_fingerprint", sip...)
		_, ok := pick(m, "sfbex_dns_lookup_outcome", append(sip, `outcome="noerror"`)...)
		_, changes0 = pick(m, "sfbex_dns_answer_changes_total")
		for _, v := range p {
			present0 = v
		}
		return len(p) == 1 && ok == 1
	})
	if present0 != 1 {
		t.Fatalf("sfbex_dns_record_present for sip = %v before the fault, want 1", present0)
	}
	stop()

	watchGoroutines(t, a, "dns", 6, 2*time.Second)

	m := series(t, a)
	_, timeouts := pick(m, "sfbex_dns_lookup_outcome", append(sip, `outcome="timeout"`)...)
	_, errs := pick(m, "sfbex_dns_lookup_outcome", append(sip, `outcome="error"`)...)
	if timeouts+errs != 1 {
		o, _ := pick(m, "sfbex_dns_lookup_outcome", sip...)
		t.Errorf("outcome of sip after the server stopped: %v, want timeout or error", o)
	}
	if p, _ := pick(m, "sfbex_dns_record_present", sip...); len(p) != 1 {
		t.Errorf("sfbex_dns_record_present for sip disappeared: %v", p)
	} else {
		for k, v := range p {
			if v != present0 {
				t.Errorf("%s = %v after the server stopped, want the last definitive %v", k, v, present0)
			}
		}
	}
	if fp := must(t, m, "sfbex_dns_answer_fingerprint", sip...); fp != fp0 {
		t.Errorf("sfbex_dns_answer_fingerprint for sip moved from %v to %v without a definitive answer", fp0, fp)
	}
	if st := must(t, m, "sfbex_dns_answer_stale", sip...); st != 1 {
		t.Errorf("sfbex_dns_answer_stale for sip = %v, want 1", st)
	}
	if st := must(t, m, "sfbex_probe_stale", `probe="dns"`); st != 1 {
		t.Errorf("sfbex_probe_stale{probe=dns} = %v, want 1", st)
	}
	if s := must(t, m, "sfbex_probe_success", `probe="dns"`); s != 0 {
		t.Errorf("sfbex_probe_success{probe=dns} = %v, want 0", s)
	}
	if c := must(t, m, "sfbex_dns_answer_changes_total"); c != changes0 {
		t.Errorf("sfbex_dns_answer_changes_total moved from %v to %v while the server was gone", changes0, c)
	}
	// The records that were NXDOMAIN must not turn into "present".
	if p, _ := pick(m, "sfbex_dns_record_present", `record="lyncdiscover"`); len(p) > 0 {
		for k, v := range p {
			if v != 0 {
				t.Errorf("%s = %v, want 0 (NXDOMAIN before the fault)", k, v)
			}
		}
	}
	api := text(t, a, "/api/checks")
	mustContainAny(t, "/api/checks", api, "timeout", "timed out", "refused", "unreachable")
	page := text(t, a, "/")
	mustContainAny(t, "the status page", page, "timeout", "timed out", "refused", "unreachable")
	if _, body, ok := strings.Cut(page, "</style>"); ok {
		page = body
	}
	mustContainAny(t, "the status page (stale)", page, "stale", "last definitive", "last answer")
	stillUp(t, a)
}

// rawDNS answers every UDP query on 127.0.0.1 with reply(query). The TCP
// side of the port is held without listening: a TCP fallback is refused,
// and cannot reach another program that took the port.
func rawDNS(t *testing.T, reply func(q *dns.Msg, raw []byte) []byte) string {
	t.Helper()
	pc, held, err := loopback.ListenUDPHoldTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(); held.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			if out := reply(q, buf[:n]); out != nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func packedReply(q *dns.Msg, mutate func(*dns.Msg)) []byte {
	m := new(dns.Msg)
	m.SetReply(q)
	rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.66")
	m.Answer = append(m.Answer, rr)
	if mutate != nil {
		mutate(m)
	}
	b, _ := m.Pack()
	return b
}

// TestFaultDNSGarbage: resolvers that answer random bytes, a message with
// the wrong ID, a truncated message, and a TC answer whose TCP side is
// closed. No lookup may be taken as definitive, so no record appears
// present or absent, and nothing counts as drift.
func TestFaultDNSGarbage(t *testing.T) {
	good, _ := startDNS(t, goodDNS)
	random := rawDNS(t, func(q *dns.Msg, _ []byte) []byte {
		b := make([]byte, 64)
		_, _ = rand.Read(b)
		return b
	})
	wrongID := rawDNS(t, func(q *dns.Msg, _ []byte) []byte {
		return packedReply(q, func(m *dns.Msg) { m.Id ^= 0x5a5a })
	})
	truncated := rawDNS(t, func(q *dns.Msg, _ []byte) []byte {
		b := packedReply(q, nil)
		return b[:len(b)-7]
	})
	tc := rawDNS(t, func(q *dns.Msg, _ []byte) []byte {
		return packedReply(q, func(m *dns.Msg) { m.Truncated = true; m.Answer = nil })
	})
	bad := map[string]string{"random": random, "wrongid": wrongID, "cut": truncated, "tc": tc}
	res := "internal=" + good
	for name, addr := range bad {
		res += "," + name + "=" + addr
	}
	a := infra.StartAgent(t, infra.BuildAgent(t), nil, dnsEnv(res))

	watchGoroutines(t, a, "dns", 5, 2*time.Second)

	m := series(t, a)
	for name := range bad {
		r := `resolver="` + name + `"`
		if p, _ := pick(m, "sfbex_dns_record_present", r); len(p) != 0 {
			t.Errorf("%s: a garbage answer was taken as definitive: %v", name, p)
		}
		o, _ := pick(m, "sfbex_dns_lookup_outcome", r, `record="sip"`)
		_, nd := pick(m, "sfbex_dns_lookup_outcome", r, `record="sip"`, `outcome="`)
		_, def := pick(m, "sfbex_dns_lookup_outcome", r, `record="sip"`, `outcome="no`)
		_, nx := pick(m, "sfbex_dns_lookup_outcome", r, `record="sip"`, `outcome="nxdomain"`)
		if nd != 1 || def+nx != 0 {
			t.Errorf("%s: outcome of sip = %v, want one non-definitive outcome", name, o)
		}
		t.Logf("%s: %v", name, o)
	}
	if p, _ := pick(m, "sfbex_dns_record_present", `resolver="internal"`, `record="sip"`); len(p) != 1 {
		t.Errorf("the good resolver's answer is missing: %v", p)
	}
	if c := must(t, m, "sfbex_dns_answer_changes_total"); c != 0 {
		t.Errorf("sfbex_dns_answer_changes_total = %v with garbage answers, want 0", c)
	}
	api := text(t, a, "/api/checks")
	for name := range bad {
		why := about(api, "sip."+chaosDomain+" A via "+name+":")
		t.Logf("%s: %q", name, why)
		switch name {
		case "tc":
			mustContainAny(t, "/api/checks (tc)", why, "truncated", "tcp", "connection refused")
		case "wrongid":
			mustContainAny(t, "/api/checks (wrongid)", why, "timeout", "no answer", "id mismatch", "mismatch")
		default:
			// Which decoding error random bytes hit first varies from run to
			// run; what matters is that the line names the resolver and gives
			// the decoder's reason after it.
			re := regexp.MustCompile(`asking resolver ` + name + ` \([^)]+\) for \S+: .{5,}`)
			if !re.MatchString(why) {
				t.Errorf("/api/checks (%s) does not say which resolver sent what: %q", name, why)
			}
		}
	}
	stillUp(t, a)
}

// about returns what the text says right after marker, up to the end of
// its line ("\\n" in JSON) or string.
func about(s, marker string) string {
	i := strings.Index(s, marker)
	if i < 0 {
		return ""
	}
	rest := s[i:]
	if j := strings.Index(rest, `\n`); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.Index(rest, `"`); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// ---- HTTP ----

// chaosCert makes a CA and a server certificate for names, writes the CA
// (PEM) to caFile and returns the server's tls.Certificate.
func chaosCert(t *testing.T, caFile string, names ...string) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sfbex chaos CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// TestFaultHTTP: EWS URLs that hang, trickle one byte per 500 ms, send
// a body without end, and redirect forever, all on one TLS server behind
// SFBEX_CONNECT_TO. None of them is EWS answering.
func TestFaultHTTP(t *testing.T) {
	const host = "ews.chaos.test"
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := chaosCert(t, caFile, host)
	const maxBody = 1 << 20

	var (
		endlessSent    atomic.Int64 // bytes of the last endless body
		endlessMax     atomic.Int64
		endlessClosed  atomic.Int64 // requests whose connection the agent closed
		hangFreed      atomic.Int64
		hangLongest    atomic.Int64 // ns
		trickleFreed   atomic.Int64
		trickleLongest atomic.Int64
		redirects      atomic.Int64
	)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hang/EWS/Exchange.asmx", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case <-r.Context().Done():
			hangFreed.Add(1)
			if d := int64(time.Since(start)); d > hangLongest.Load() {
				hangLongest.Store(d)
			}
		case <-done:
		}
	})
	mux.HandleFunc("/trickle/EWS/Exchange.asmx", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = buf.Flush()
		start := time.Now()
		resp := "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 1000000\r\n\r\n" + strings.Repeat("x", 1000000)
		for i := 0; i < len(resp); i++ {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte{resp[i]}); err != nil {
				break
			}
			// A closed peer shows as a read that ends.
			_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			one := make([]byte, 1)
			if _, err := conn.Read(one); err != nil && !isTimeout(err) {
				break
			}
			select {
			case <-done:
				return
			default:
			}
		}
		trickleFreed.Add(1)
		if d := int64(time.Since(start)); d > trickleLongest.Load() {
			trickleLongest.Store(d)
		}
	})
	mux.HandleFunc("/endless/EWS/Exchange.asmx", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusOK)
		zeros := make([]byte, 32<<10)
		var n int64
		for n < 100<<20 {
			k, err := w.Write(zeros)
			n += int64(k)
			if err != nil {
				endlessClosed.Add(1)
				break
			}
		}
		endlessSent.Store(n)
		if n > endlessMax.Load() {
			endlessMax.Store(n)
		}
	})
	mux.HandleFunc("/loop/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		redirects.Add(1)
		http.Redirect(w, r, fmt.Sprintf("/loop/EWS/Exchange.asmx?n=%d", n+1), http.StatusFound)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	t.Cleanup(func() { close(done); srv.CloseClientConnections(); srv.Close() })
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	dnsAddr, _ := startDNS(t, goodDNS)
	env := append(dnsEnv("internal="+dnsAddr),
		"SFBEX_DNS_INTERVAL=1m", "SFBEX_DNS_TIMEOUT=5s",
		"SFBEX_EWS_URLS="+strings.Join([]string{
			"https://" + host + "/hang/EWS/Exchange.asmx",
			"https://" + host + "/trickle/EWS/Exchange.asmx",
			"https://" + host + "/endless/EWS/Exchange.asmx",
			"https://" + host + "/loop/EWS/Exchange.asmx",
		}, ","),
		"SFBEX_EWS_EXPECT_OAUTH=false",
		fmt.Sprintf("SFBEX_CONNECT_TO=%s:443=127.0.0.1:%d", host, port),
		"SFBEX_CA_FILE="+caFile,
		"SFBEX_HTTP_INTERVAL=3s",
		"SFBEX_HTTP_TIMEOUT=3s",
		"SFBEX_HTTP_REQUEST_TIMEOUT=2s",
		fmt.Sprintf("SFBEX_HTTP_MAX_BODY_BYTES=%d", maxBody),
		"SFBEX_HTTP_MAX_REDIRECTS=5",
	)
	a := infra.StartAgent(t, infra.BuildAgent(t), nil, env)

	watchGoroutines(t, a, "ews", 4, 3*time.Second)

	m := series(t, a)
	// None of the four is EWS answering: an endless 200 is cut off at the
	// limit and is not EWS either.
	for _, p := range []string{"hang", "trickle", "endless", "loop"} {
		u := `url="https://` + host + `/` + p + `/EWS/Exchange.asmx"`
		up, _ := pick(m, "sfbex_ews_up", u)
		o, _ := pick(m, "sfbex_ews_outcome", u)
		t.Logf("%s: up %v, outcome %v", p, up, o)
		if len(up) != 1 {
			t.Errorf("%s: no sfbex_ews_up series", p)
			continue
		}
		for k, v := range up {
			if v != 0 {
				t.Errorf("%s = %v: a misbehaving endpoint counted as up", k, v)
			}
		}
	}
	endlessURL := `url="https://` + host + `/endless/EWS/Exchange.asmx"`
	if o, n := pick(m, "sfbex_ews_outcome", endlessURL, `outcome="body_too_large"`); n != 1 {
		all, _ := pick(m, "sfbex_ews_outcome", endlessURL)
		t.Errorf("endless: outcome %v, want body_too_large (%v)", all, o)
	}
	if hangFreed.Load() == 0 {
		t.Error("hang: the agent never gave up on a request that hangs")
	} else if d := time.Duration(hangLongest.Load()); d > 4*time.Second {
		t.Errorf("hang: the agent held a hanging request %v (request timeout 2s)", d)
	}
	if trickleFreed.Load() == 0 {
		t.Error("trickle: the agent never gave up on a trickling answer")
	} else if d := time.Duration(trickleLongest.Load()); d > 5*time.Second {
		t.Errorf("trickle: the agent read a trickling answer for %v (request timeout 2s)", d)
	}
	t.Logf("endless: %d requests closed by the agent, the most sent %d bytes (limit %d)", endlessClosed.Load(), endlessMax.Load(), maxBody)
	if endlessClosed.Load() == 0 {
		t.Error("endless: the agent never closed the connection of an endless body")
	}
	if n := endlessMax.Load(); n >= 50<<20 {
		t.Errorf("endless: the server sent %d bytes before the agent stopped reading (SFBEX_HTTP_MAX_BODY_BYTES=%d)", n, maxBody)
	}
	if n := redirects.Load(); n == 0 {
		t.Error("loop: the redirect server saw no request")
	}
	api := text(t, a, "/api/checks")
	mustContainAny(t, "/api/checks (redirect)", api, "redirect")
	mustContainAny(t, "/api/checks (hang)", api, "timeout", "timed out", "deadline")
	if !strings.Contains(strings.ReplaceAll(api, " ", ""), `"truncated":true`) {
		t.Error("/api/checks does not say that the endless body was cut at SFBEX_HTTP_MAX_BODY_BYTES (no \"truncated\": true)")
	}
	mustContainAny(t, "/api/checks (endless)", api, "cut off at SFBEX_HTTP_MAX_BODY_BYTES")
	page := text(t, a, "/")
	mustContainAny(t, "the status page (endless)", page, "cut off at SFBEX_HTTP_MAX_BODY_BYTES")
	mustContainAny(t, "the status page", page, "redirect")
	mustContainAny(t, "the status page", page, "timeout", "timed out", "deadline")
	stillUp(t, a)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// ---- CMS snapshots ----

// TestFaultSnapshots: a good snapshot, then its file half-written, empty,
// binary and huge. The last good snapshot stays in use, marked stale;
// sfbex_cms_snapshot_invalid_files counts the bad file; the agent does
// not read the huge file whole.
func TestFaultSnapshots(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(infra.ModuleRoot(t), "probes", "cms", "testdata", "sfb-ps7.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "fe01.json")
	if err := os.WriteFile(file, good, 0o644); err != nil {
		t.Fatal(err)
	}
	dnsAddr, _ := startDNS(t, goodDNS)
	env := append(dnsEnv("internal="+dnsAddr),
		"SFBEX_DNS_INTERVAL=1m", "SFBEX_DNS_TIMEOUT=5s",
		"SFBEX_CMS_SNAPSHOT_PATH="+dir,
		"SFBEX_CMS_INTERVAL=1s",
		"SFBEX_CMS_TIMEOUT=1s",
	)
	a := infra.StartAgent(t, infra.BuildAgent(t), nil, env)

	var ts0 float64
	waitFor(t, 10*time.Second, "the good snapshot", func() bool {
		p, _ := pick(series(t, a), "sfbex_cms_snapshot_timestamp_seconds")
		for _, v := range p {
			ts0 = v
		}
		return len(p) == 1
	})

	binary := make([]byte, 64<<10)
	_, _ = rand.Read(binary)
	cases := []struct {
		name  string
		write func() error
	}{
		{"half-written", func() error { return os.WriteFile(file, good[:len(good)/2], 0o644) }},
		{"empty", func() error { return os.WriteFile(file, nil, 0o644) }},
		{"binary", func() error { return os.WriteFile(file, binary, 0o644) }},
		{"huge", func() error {
			// 200 MiB: a valid start, then a sparse tail of zeros.
			if err := os.WriteFile(file, good[:len(good)/2], 0o644); err != nil {
				return err
			}
			return os.Truncate(file, 200<<20)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.write(); err != nil {
				t.Fatal(err)
			}
			r0 := runs(t, a, "cms")
			waitFor(t, 10*time.Second, "two cms runs", func() bool { return runs(t, a, "cms") >= r0+2 })
			m := series(t, a)
			if inv := must(t, m, "sfbex_cms_snapshot_invalid_files"); inv != 1 {
				t.Errorf("sfbex_cms_snapshot_invalid_files = %v, want 1", inv)
			}
			if st := must(t, m, "sfbex_cms_snapshot_stale"); st != 1 {
				t.Errorf("sfbex_cms_snapshot_stale = %v, want 1", st)
			}
			if p, ts := pick(m, "sfbex_cms_snapshot_timestamp_seconds"); len(p) != 1 || ts != ts0 {
				t.Errorf("sfbex_cms_snapshot_timestamp_seconds = %v, want the good snapshot's %v", p, ts0)
			}
			if p, _ := pick(m, "sfbex_cms_replica_up_to_date"); len(p) == 0 {
				t.Error("the replicas of the last good snapshot are gone")
			}
			rssB := must(t, m, "process_resident_memory_bytes")
			t.Logf("RSS %s", mib(uint64(rssB)))
			if rssB > 100<<20 {
				t.Errorf("RSS %s with a %s snapshot file, limit 100 MiB", mib(uint64(rssB)), c.name)
			}
			api := text(t, a, "/api/checks")
			mustContainAny(t, "/api/checks", api, "fe01.json")
			mustContainAny(t, "/api/checks", api, "last good snapshot", "stale")
			page := text(t, a, "/")
			mustContainAny(t, "the status page", page, "fe01.json")
		})
	}
	watchGoroutines(t, a, "cms", 4, time.Second)

	// The good file back: no longer stale, nothing invalid.
	if err := os.WriteFile(file, good, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "recovery from the good file", func() bool {
		m := series(t, a)
		stp, st := pick(m, "sfbex_cms_snapshot_stale")
		invp, inv := pick(m, "sfbex_cms_snapshot_invalid_files")
		return len(stp) > 0 && len(invp) > 0 && st == 0 && inv == 0
	})
	stillUp(t, a)
}
