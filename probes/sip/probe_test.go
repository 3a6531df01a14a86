package sip

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"

	"github.com/sfbex/sfbex_exporter/probes"
)

const edge = "sip.contoso.test"

// TestAnswered: a Skype for Business-shaped answer gives its status,
// Server header, product family and ms-diagnostics, and no finding for 200.
func TestAnswered(t *testing.T) {
	pr := startPeer(t, serverConfig(t, edge), answerWith(200, "OK", "Server: RTC/7.0"))
	res, _, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Targets[0]
	if tr.Outcome != Answered || tr.Answer.Status != 200 || tr.Answer.Server != "RTC/7.0" || tr.Answer.Product != "sfb2019_or_se" || tr.Stale {
		t.Fatalf("target = %+v, answer %+v", tr, tr.Answer)
	}
	if tr.TLS == nil || !tr.TLS.VerifyOK || tr.TLS.ClientCertRequested || tr.RTT <= 0 {
		t.Fatalf("TLS facts %+v, rtt %s", tr.TLS, tr.RTT)
	}
	if fs := res.Findings(); len(fs) != 0 {
		t.Fatalf("findings on a healthy Edge: %v", fs)
	}
}

// TestOutcomes: every way a peer can fail to answer ends in its own
// outcome, within the run's deadline, with advice that matches it.
func TestOutcomes(t *testing.T) {
	cfg := serverConfig(t, edge)
	for _, tc := range []struct {
		name   string
		handle func(c *tls.Conn)
		want   Outcome
		errHas string
	}{
		{"silence", func(c *tls.Conn) { _, _ = io.Copy(io.Discard, c) }, NoAnswer, "no answer within the deadline"},
		{"garbage", func(c *tls.Conn) {
			_, _ = c.Write(append([]byte{0x16, 0x03}, randomBytes(2048)...))
			_, _ = io.Copy(io.Discard, c)
		}, Malformed, "not a SIP answer"},
		{"text garbage", func(c *tls.Conn) {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			_, _ = io.Copy(io.Discard, c)
		}, Malformed, "not a SIP answer"},
		{"trickle", func(c *tls.Conn) {
			for _, b := range []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bK1\r\nServer: RTC/7.0\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			_, _ = io.Copy(io.Discard, c)
		}, Incomplete, "no whole SIP answer within the deadline"},
		{"closed", func(c *tls.Conn) {}, Closed, "closed the connection without answering"},
		{"request instead", func(c *tls.Conn) {
			_, _ = c.Write([]byte("OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKx\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nContent-Length: 0\r\n\r\n"))
			_, _ = io.Copy(io.Discard, c)
		}, Malformed, "a SIP OPTIONS request instead of an answer"},
		{"another call", func(c *tls.Conn) {
			if _, err := readRequest(c); err != nil {
				return
			}
			_, _ = c.Write([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKx\r\nCall-ID: someone-else\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n"))
			_, _ = io.Copy(io.Discard, c)
		}, Malformed, "is for another request"},
		{"endless header", func(c *tls.Conn) {
			_, _ = c.Write([]byte("SIP/2.0 200 OK\r\n"))
			line := []byte("X-Padding: " + strings.Repeat("a", 1000) + "\r\n")
			for range 200 {
				if _, err := c.Write(line); err != nil {
					return
				}
			}
			_, _ = io.Copy(io.Discard, c)
		}, Malformed, "SFBEX_SIP_MAX_ANSWER_BYTES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := startPeer(t, cfg, tc.handle)
			res, took, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second)
			tr := res.Targets[0]
			if tr.Outcome != tc.want || !strings.Contains(tr.Error, tc.errHas) {
				t.Fatalf("outcome %s (%s), want %s with %q", tr.Outcome, tr.Error, tc.want, tc.errHas)
			}
			if err == nil || probes.FixOf(err) == "" || !strings.Contains(probes.FixOf(err), "docs/runbooks.md#sip-not-answering") {
				t.Fatalf("error %v, fix %q", err, probes.FixOf(err))
			}
			if took > 4*time.Second {
				t.Fatalf("took %s: the 1s request timeout did not bound it", took)
			}
			if tr.TLS == nil || !tr.TLS.VerifyOK {
				t.Fatalf("TLS completed, facts missing: %+v", tr.TLS)
			}
			if probes.Worst(res.Findings()) != probes.Critical {
				t.Fatalf("findings %v", res.Findings())
			}
		})
	}
}

// TestNoTLSAndNothingListening: a port without TLS and a closed port are
// told apart.
func TestNoTLSAndNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SIP/2.0 400 Bad Request\r\n\r\n")) // plain SIP on a TLS port
			c.Close()
		}
	}()
	res, _, _ := run(t, configured(t, edge, 5061, ln.Addr().String(), nil), 5*time.Second)
	if tr := res.Targets[0]; tr.Outcome != TLSFailed || tr.TLS != nil {
		t.Fatalf("plain TCP peer: %+v", tr)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, _, err = run(t, configured(t, edge, 5061, addr, nil), 5*time.Second)
	if tr := res.Targets[0]; tr.Outcome != Unreachable || !strings.Contains(probes.FixOf(err), "reachable on TCP 5061") {
		t.Fatalf("closed port: %+v, fix %q", tr, probes.FixOf(err))
	}
}

// TestHandshakeHangs: a server that accepts TCP and never answers the
// TLS hello (hung, or something in the path holding the connection) is a
// TLS failure within the deadline, and the advice says it hangs rather
// than blaming the TLS version or the certificate binding.
func TestHandshakeHangs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	res, took, err := run(t, configured(t, edge, 5061, ln.Addr().String(), nil), 5*time.Second)
	tr := res.Targets[0]
	if tr.Outcome != TLSFailed || took > 4*time.Second {
		t.Fatalf("outcome %s after %s: %s", tr.Outcome, took, tr.Error)
	}
	if fix := probes.FixOf(err); !strings.Contains(fix, "does not complete the TLS handshake in time") {
		t.Fatalf("fix %q", fix)
	}
}

// TestMutualTLS: a server that demands a client certificate refuses the
// probe without one (and the advice says to configure one), and accepts the
// configured one.
func TestMutualTLS(t *testing.T) {
	cfg := serverConfig(t, edge)
	cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, roots(t)
	pr := startPeer(t, cfg, answerWith(200, "OK", "Server: RTC/6.0"))

	res, _, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second)
	tr := res.Targets[0]
	if tr.Outcome != TLSFailed || tr.TLS == nil || !tr.TLS.ClientCertRequested || tr.TLS.ClientCertSent {
		t.Fatalf("without a client certificate: %+v %+v", tr, tr.TLS)
	}
	if !strings.Contains(probes.FixOf(err), "SFBEX_SIP_CLIENT_CERT") {
		t.Fatalf("fix %q does not say to configure a client certificate", probes.FixOf(err))
	}

	client := issue(t, "sfbex-probe.contoso.test")
	s := &Settings{RequestTimeout: time.Second, MaxAnswerBytes: 65536, From: "sfbex-probe@contoso.test", Accept: []int{200}, ClientCert: &client, ClientCertSubject: client.Leaf.Subject.CommonName}
	res, _, err = run(t, configured(t, edge, 5061, pr.addr, s), 5*time.Second)
	tr = res.Targets[0]
	if err != nil || tr.Outcome != Answered || !tr.TLS.ClientCertRequested || !tr.TLS.ClientCertSent {
		t.Fatalf("with the client certificate: %v %+v %+v", err, tr, tr.TLS)
	}
	if d := strings.Join(res.Details(), "\n"); !strings.Contains(d, "client certificate asked for and presented (CN=sfbex-probe.contoso.test)") {
		t.Fatalf("details:\n%s", d)
	}
	// RTC/6.0 is Skype for Business Server 2015, out of support.
	if !strings.Contains(findingsText(res), "Skype for Business Server 2015") {
		t.Fatalf("findings %v", res.Findings())
	}
}

// TestStaleAnswer: when the peer stops answering, the last answer is kept
// and marked stale; the outcome says what happened now; nothing changes
// that did not change (no false zero status, no empty Server).
func TestStaleAnswer(t *testing.T) {
	pr := startPeer(t, serverConfig(t, edge), answerWith(200, "OK", "Server: RTC/7.0"))
	p := configured(t, edge, 5061, pr.addr, nil)
	first, _, err := run(t, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pr.ln.Close()
	second, _, err := run(t, p, 5*time.Second)
	if err == nil {
		t.Fatal("no error when the peer is gone")
	}
	a, b := first.Targets[0], second.Targets[0]
	if b.Outcome != Unreachable || !b.Stale || b.Answer == nil || b.Answer.Status != 200 || b.Answer.Server != "RTC/7.0" || !b.AnswerAt.Equal(a.AnswerAt) || !b.TLSStale {
		t.Fatalf("second run %+v", b)
	}
	got := metrics(t, second)
	for series, want := range map[string]float64{
		`sfbex_sip_up{domain="",service="configured",target="sip.contoso.test:5061"}`:                                                   0,
		`sfbex_sip_answer_stale{domain="",service="configured",target="sip.contoso.test:5061"}`:                                         1,
		`sfbex_sip_status_code{domain="",service="configured",target="sip.contoso.test:5061"}`:                                          200,
		`sfbex_sip_outcome{domain="",outcome="unreachable",service="configured",target="sip.contoso.test:5061"}`:                        1,
		`sfbex_sip_outcome{domain="",outcome="answered",service="configured",target="sip.contoso.test:5061"}`:                           0,
		`sfbex_sip_server_info{domain="",product="sfb2019_or_se",server="RTC/7.0",service="configured",target="sip.contoso.test:5061"}`: 1,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if d := strings.Join(second.Details(), "\n"); !strings.Contains(d, "[stale: showing the answer of") || !strings.Contains(d, "UNREACHABLE") {
		t.Fatalf("details:\n%s", d)
	}
}

// TestErrorAnswers: 403 and 504 with ms-diagnostics are reported with code
// and reason, and advice that follows the reason's words.
func TestErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		status   int
		reason   string
		diag     string
		sev      probes.Severity
		adviceIs string
	}{
		{504, "Server time-out", `1034;reason="Previous hop federated peer did not report diagnostic information";Domain="fabrikam.com";PeerServer="sip.fabrikam.com";source="sip.contoso.test"`, probes.Critical, "A hop behind the answering server"},
		{403, "Forbidden", `1000;reason="Federation is not allowed for this domain";source="sip.contoso.test"`, probes.Warning, "federation rules refuse this peer"},
		{504, "Server time-out", `1008;reason="Unable to resolve DNS SRV record";source="sip.contoso.test"`, probes.Critical, "could not resolve a name"},
	} {
		pr := startPeer(t, serverConfig(t, edge), answerWith(tc.status, tc.reason, "Server: RTC/7.0", "ms-diagnostics: "+tc.diag))
		res, _, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second)
		if err != nil {
			t.Fatal(err) // an answer is not a failed run: the finding says what is wrong
		}
		tr := res.Targets[0]
		if tr.Answer.Status != tc.status || tr.Answer.Diagnostics == nil || tr.Answer.Diagnostics.Source != "sip.contoso.test" {
			t.Fatalf("answer %+v diag %+v", tr.Answer, tr.Answer.Diagnostics)
		}
		fs := res.Findings()
		if len(fs) != 1 || fs[0].Severity != tc.sev || !strings.Contains(fs[0].Fix, tc.adviceIs) || !strings.Contains(fs[0].Problem, "ms-diagnostics") {
			t.Fatalf("%d: findings %+v", tc.status, fs)
		}
		got := metrics(t, res)
		if got[`sfbex_sip_status_accepted{domain="",service="configured",target="sip.contoso.test:5061"}`] != 0 {
			t.Fatalf("%d counted as accepted", tc.status)
		}
	}
}

// TestCertificateNotAccepted: a certificate without the name peers connect
// to is reported with its facts, and the exchange still goes on.
func TestCertificateNotAccepted(t *testing.T) {
	pr := startPeer(t, serverConfig(t, "edge01.contoso.test"), answerWith(200, "OK", "Server: RTC/7.0"))
	res, _, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f := res.Targets[0].TLS
	if f.VerifyOK || f.VerifyReason != "name_mismatch" || f.LeafSubject != "edge01.contoso.test" {
		t.Fatalf("facts %+v", f)
	}
	if !strings.Contains(findingsText(res), "is not accepted for sip.contoso.test") {
		t.Fatalf("findings %v", res.Findings())
	}
}

// TestRequestIsWellFormed: what the probe sends parses as an OPTIONS with
// every header RFC 3261 requires, and names no user of the estate.
func TestRequestIsWellFormed(t *testing.T) {
	got := make(chan string, 1)
	pr := startPeer(t, serverConfig(t, edge), func(c *tls.Conn) {
		req, err := readRequest(c)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- req.String()
		_, _ = c.Write([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
	})
	if _, _, err := run(t, configured(t, edge, 5061, pr.addr, nil), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	req := <-got
	for _, want := range []string{"OPTIONS sip:sip.contoso.test:5061;transport=tls SIP/2.0\r\n", "Via: SIP/2.0/TLS 127.0.0.1:", ";branch=z9hG4bK", "Max-Forwards: 70", "From: <sip:sfbex-probe@contoso.test>;tag=", "To: <sip:sip.contoso.test:5061>", "Call-ID: ", "CSeq: 1 OPTIONS", "Contact: <sip:sfbex-probe@127.0.0.1:", "User-Agent: sfbex_exporter/test", "Content-Length: 0"} {
		if !strings.Contains(req, want) {
			t.Errorf("request lacks %q:\n%s", want, req)
		}
	}
}

func findingsText(r *Result) string {
	var b strings.Builder
	for _, f := range r.Findings() {
		b.WriteString(f.String() + " / " + f.Fix + "\n")
	}
	return b.String()
}

// metrics renders r's series as "name{labels}" -> value.
func metrics(t testing.TB, r *Result) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range r.AppendMetrics(nil) {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		name := m.Desc().String()
		name = name[strings.Index(name, `fqName: "`)+9:]
		name = name[:strings.Index(name, `"`)]
		var ls []string
		for _, l := range pb.GetLabel() {
			ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
		}
		out[name+"{"+strings.Join(ls, ",")+"}"] = pb.GetGauge().GetValue()
	}
	return out
}
