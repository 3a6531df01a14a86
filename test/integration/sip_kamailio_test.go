package integration

// The SIP family against a real SIP server: Kamailio (Debian's kamailio
// with kamailio-tls-modules) on a loopback port, answering OPTIONS over
// TLS, found through an SRV record served by bind9.

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/sip"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// sipPKI is a CA and its files: the server's certificate, a client
// certificate as PEM (certificate and key in one file) and as PFX.
type sipPKI struct {
	dir                                  string
	caFile, certFile, keyFile            string
	clientPEM, clientPFX, clientPassword string
}

const sipPFXPassword = "kamailio-pfx-5150"

func newSIPPKI(t *testing.T, serverName string) *sipPKI {
	t.Helper()
	ca, err := lab.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := &sipPKI{dir: t.TempDir()}
	write := func(name string, b []byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pemOf := func(c tls.Certificate) (certPEM, keyPEM []byte) {
		der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range c.Certificate {
			certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	p.caFile = write("ca.pem", ca.PEM)
	server, err := ca.Issue(lab.CertSpec{Subject: pkix.Name{CommonName: serverName}, DNSNames: []string{serverName}})
	if err != nil {
		t.Fatal(err)
	}
	c, k := pemOf(server)
	p.certFile, p.keyFile = write("server.pem", c), write("server.key", k)
	client, err := ca.Issue(lab.CertSpec{Subject: pkix.Name{CommonName: "sfbex-probe.contoso.test"}, DNSNames: []string{"sfbex-probe.contoso.test"}})
	if err != nil {
		t.Fatal(err)
	}
	c, k = pemOf(client)
	p.clientPEM = write("client.pem", append(c, k...))
	pfx, err := pkcs12.Modern.WithRand(rand.Reader).Encode(client.PrivateKey, client.Leaf, []*x509.Certificate{ca.Cert}, sipPFXPassword)
	if err != nil {
		t.Fatal(err)
	}
	p.clientPFX = write("client.pfx", pfx)
	p.clientPassword = write("client.pfx.password", []byte(sipPFXPassword+"\n"))
	return p
}

// sipChecks builds the SIP family's checks the way the agent does, from
// variables.
func sipChecks(t *testing.T, vars map[string]string, e *estate.Estate) []*probes.Check {
	t.Helper()
	src := config.Map(vars)
	web, err := webclient.Load(src, "sfbex_exporter/integration")
	if err != nil {
		t.Fatal(err)
	}
	checks, err := sip.Family.Checks(&probes.Env{Vars: src, Estate: e, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	return checks
}

// runSIP runs the store's only check once and returns its entry and its
// result's only target.
func runSIP(t *testing.T, store *collector.Store, checks []*probes.Check) (collector.Entry, sip.TargetResult) {
	t.Helper()
	collector.RunOnce(context.Background(), store, checks, 1)
	e := store.Entries()[0]
	res, ok := e.Shown.(*sip.Result)
	if !ok || len(res.Targets) != 1 {
		t.Fatalf("shown %T %+v (error %v)", e.Shown, e.Shown, e.Latest.Err)
	}
	return e, res.Targets[0]
}

// TestSIPAgainstKamailio: the federation SRV record served by bind9 leads
// to Kamailio, which answers 200 with its Server header. When Kamailio
// stops between two runs, the outcome says so, the last answer is kept and
// marked stale, and nothing that did not change changes; when it is back,
// the answer is fresh again.
func TestSIPAgainstKamailio(t *testing.T) {
	infra.Require(t, "kamailio", "named")
	pki := newSIPPKI(t, "sip.contoso.test")
	k := infra.StartKamailio(t, infra.KamailioOptions{CertFile: pki.certFile, KeyFile: pki.keyFile, Server: "RTC/7.0"})
	_, port, _ := strings.Cut(k.Addr, ":")
	named := infra.StartNamed(t, map[string]string{"contoso.test": fmt.Sprintf(`$ORIGIN contoso.test.
$TTL 60
@	IN SOA ns1 hostmaster 1 3600 600 86400 60
@	IN NS ns1
ns1	IN A 127.0.0.1
sip	IN A 127.0.0.1
_sipfederationtls._tcp	IN SRV 0 0 %s sip
`, port)})
	e := &estate.Estate{SIPDomains: []string{"contoso.test"}, EmailDomains: []string{"contoso.test"}, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Cloud: estate.Worldwide, QueryTimeout: 2 * time.Second, Resolvers: []estate.Resolver{{Name: "external", Addr: named.Addr}}}
	checks := sipChecks(t, map[string]string{"SFBEX_SIP_SERVICES": "federation", "SFBEX_CA_FILE": pki.caFile, "SFBEX_SIP_TIMEOUT": "10s", "SFBEX_SIP_REQUEST_TIMEOUT": "5s"}, e)
	if len(checks) != 1 || checks[0].ID() != "sip/federation" {
		t.Fatalf("checks %v", checks)
	}
	store := collector.NewStore(checks)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.NewCollector(store))
	target := "sip.contoso.test:" + port
	l := map[string]string{"domain": "contoso.test", "service": "federation", "target": target}

	entry, tr := runSIP(t, store, checks)
	if entry.Latest.Err != nil {
		t.Fatal(entry.Latest.Err)
	}
	if tr.Target != target || tr.Address != k.Addr || tr.Outcome != sip.Answered || tr.Answer.Status != 200 || tr.Answer.Reason != "OK" ||
		tr.Answer.Server != "RTC/7.0" || tr.Answer.Product != "sfb2019_or_se" || !tr.TLS.VerifyOK || tr.TLS.ClientCertRequested {
		t.Fatalf("first run: %+v answer %+v tls %+v", tr, tr.Answer, tr.TLS)
	}
	if v := promtest.Value(t, reg, "sfbex_sip_up", l); v != 1 {
		t.Fatalf("sfbex_sip_up %v", v)
	}
	firstAnswer := promtest.Value(t, reg, "sfbex_sip_last_answer_timestamp_seconds", l)

	k.Stop() // by PID
	entry, tr = runSIP(t, store, checks)
	if !entry.Stale || entry.Latest.Err == nil || !strings.Contains(entry.Latest.Err.Error(), "unreachable") {
		t.Fatalf("after the stop: stale %v, error %v", entry.Stale, entry.Latest.Err)
	}
	if tr.Outcome != sip.Unreachable || !tr.Stale || tr.Answer == nil || tr.Answer.Status != 200 || tr.Answer.Server != "RTC/7.0" {
		t.Fatalf("after the stop: %+v answer %+v", tr, tr.Answer)
	}
	for name, want := range map[string]float64{
		"sfbex_sip_up": 0, "sfbex_sip_answer_stale": 1, "sfbex_sip_status_code": 200, "sfbex_sip_status_accepted": 1,
		"sfbex_sip_last_answer_timestamp_seconds": firstAnswer, "sfbex_sip_tls_verify_ok": 1,
	} {
		if v := promtest.Value(t, reg, name, l); v != want {
			t.Errorf("after the stop: %s = %v, want %v (kept from the last answer, not zeroed)", name, v, want)
		}
	}
	if v := promtest.Value(t, reg, "sfbex_sip_server_info", map[string]string{"target": target, "server": "RTC/7.0", "product": "sfb2019_or_se"}); v != 1 {
		t.Errorf("after the stop: the Server series changed: %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_sip_outcome", map[string]string{"target": target, "outcome": "unreachable"}); v != 1 {
		t.Errorf("after the stop: outcome unreachable %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_probe_stale", map[string]string{"probe": "sip", "target": "federation"}); v != 1 {
		t.Errorf("sfbex_probe_stale %v", v)
	}

	k.Restart(t)
	entry, tr = runSIP(t, store, checks)
	if entry.Stale || entry.Latest.Err != nil || tr.Outcome != sip.Answered || tr.Stale || tr.Answer.Server != "RTC/7.0" {
		t.Fatalf("after the restart: %+v (stale %v, error %v)", tr, entry.Stale, entry.Latest.Err)
	}
	if v := promtest.Value(t, reg, "sfbex_sip_up", l); v != 1 {
		t.Fatalf("after the restart: sfbex_sip_up %v", v)
	}
}

// TestSIPMutualTLSAgainstKamailio: Kamailio demands a client certificate,
// as an Access Edge's federation port does. Without one the probe's TLS
// session is refused and the advice says to configure one; with the
// configured one, as PEM or as PFX with its password from a file, it
// answers.
func TestSIPMutualTLSAgainstKamailio(t *testing.T) {
	infra.Require(t, "kamailio")
	pki := newSIPPKI(t, "sip.contoso.test")
	k := infra.StartKamailio(t, infra.KamailioOptions{CertFile: pki.certFile, KeyFile: pki.keyFile, ClientCAFile: pki.caFile, Server: "RTC/6.0"})
	_, port, _ := strings.Cut(k.Addr, ":")
	target := "sip.contoso.test:" + port
	e := &estate.Estate{SIPDomains: []string{"contoso.test"}, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
		Resolvers: []estate.Resolver{{Name: "system", Addr: "127.0.0.1:1"}}}
	base := map[string]string{"SFBEX_SIP_SERVICES": "none", "SFBEX_SIP_TARGETS": target, "SFBEX_CONNECT_TO": target + "=" + k.Addr,
		"SFBEX_CA_FILE": pki.caFile, "SFBEX_SIP_TIMEOUT": "10s", "SFBEX_SIP_REQUEST_TIMEOUT": "5s"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	checks := sipChecks(t, base, e)
	entry, tr := runSIP(t, collector.NewStore(checks), checks)
	if tr.Outcome != sip.TLSFailed || tr.TLS == nil || !tr.TLS.ClientCertRequested || tr.TLS.ClientCertSent {
		t.Fatalf("without a client certificate: %+v tls %+v", tr, tr.TLS)
	}
	if fix := probes.FixOf(entry.Latest.Err); !strings.Contains(fix, "asks for a client certificate") || !strings.Contains(fix, "SFBEX_SIP_CLIENT_CERT") {
		t.Fatalf("advice %q", fix)
	}

	for name, vars := range map[string]map[string]string{
		"PEM": {"SFBEX_SIP_CLIENT_CERT": pki.clientPEM},
		"PFX": {"SFBEX_SIP_CLIENT_CERT": pki.clientPFX, "SFBEX_SIP_CLIENT_CERT_PASSWORD_FILE": pki.clientPassword},
	} {
		checks := sipChecks(t, with(vars), e)
		entry, tr := runSIP(t, collector.NewStore(checks), checks)
		if entry.Latest.Err != nil || tr.Outcome != sip.Answered || tr.Answer.Status != 200 || tr.Answer.Server != "RTC/6.0" || !tr.TLS.ClientCertRequested || !tr.TLS.ClientCertSent {
			t.Fatalf("%s client certificate: %v %+v answer %+v tls %+v", name, entry.Latest.Err, tr, tr.Answer, tr.TLS)
		}
		if name == "PFX" && strings.Contains(fmt.Sprint(entry.Shown, entry.Latest.Err), sipPFXPassword) {
			t.Fatal("the PFX password shows")
		}
	}
}
