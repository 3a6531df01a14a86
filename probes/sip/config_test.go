package sip

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

const pfxPassword = "pfx-secret-827"

// clientFiles writes a client certificate as PEM (one file, and cert and
// key apart) and as PFX, and returns their paths.
func clientFiles(t *testing.T) (both, cert, key, pfx string) {
	t.Helper()
	dir := t.TempDir()
	c := issue(t, "sfbex-probe.contoso.test")
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	both, cert, key, pfx = filepath.Join(dir, "both.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "client.pfx")
	b, err := pkcs12.Modern.WithRand(rand.Reader).Encode(c.PrivateKey, c.Leaf, nil, pfxPassword)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string][]byte{both: append(certPEM, keyPEM...), cert: certPEM, key: keyPEM, pfx: b, filepath.Join(dir, "pw"): []byte(pfxPassword + "\n")} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func testEstate(mode estate.Mode) *estate.Estate {
	return &estate.Estate{
		SIPDomains: []string{"contoso.com", "fabrikam.com"}, EmailDomains: []string{"contoso.com"},
		Lync: mode, Exchange: mode, Cloud: estate.Worldwide, QueryTimeout: 2 * time.Second,
		Resolvers: []estate.Resolver{{Name: "internal", Addr: "10.0.0.10:53", Internal: true}, {Name: "external", Addr: "1.1.1.1:53"}},
	}
}

func TestChecks(t *testing.T) {
	both, cert, key, pfx := clientFiles(t)
	pwFile := filepath.Join(filepath.Dir(pfx), "pw")
	for _, tc := range []struct {
		name   string
		env    map[string]string
		mode   estate.Mode
		checks []string // probe/target
		err    string
	}{
		{name: "defaults on premises", mode: estate.OnPrem, checks: []string{"sip/federation", "sip/clients", "sip/internal"}},
		{name: "hybrid derives too", mode: estate.Hybrid, checks: []string{"sip/federation", "sip/clients", "sip/internal"}},
		{name: "online derives nothing", mode: estate.Online},
		{name: "online with configured targets", mode: estate.Online, env: map[string]string{"SFBEX_SIP_TARGETS": "sipfed.online.lync.com:5061"}, checks: []string{"sip/configured"}},
		{name: "services chosen", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_SERVICES": "federation"}, checks: []string{"sip/federation"}},
		{name: "a record the DNS family skips", mode: estate.OnPrem, env: map[string]string{"SFBEX_DNS_SKIP_RECORDS": "_sipinternaltls._tcp, _sip._tls"}, checks: []string{"sip/federation"}},
		{name: "no services, targets", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_SERVICES": "none", "SFBEX_SIP_TARGETS": "edge-int.contoso.com:5061"}, checks: []string{"sip/configured"}},
		{name: "turned off", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_ENABLED": "false", "SFBEX_SIP_TARGETS": "edge-int.contoso.com:5061"}},
		{name: "PEM in one file", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": both}, checks: []string{"sip/federation", "sip/clients", "sip/internal"}},
		{name: "PEM and key apart", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": cert, "SFBEX_SIP_CLIENT_KEY": key}, checks: []string{"sip/federation", "sip/clients", "sip/internal"}},
		{name: "PFX, password from a file", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": pfx, "SFBEX_SIP_CLIENT_CERT_PASSWORD_FILE": pwFile}, checks: []string{"sip/federation", "sip/clients", "sip/internal"}},

		{name: "bad service", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_SERVICES": "edge"}, err: `SFBEX_SIP_SERVICES: "edge" is not one of federation,clients,internal`},
		{name: "bad target", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_TARGETS": "sip.contoso.com"}, err: `SFBEX_SIP_TARGETS: "sip.contoso.com" is not host:port`},
		{name: "timeout over interval", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_INTERVAL": "10s", "SFBEX_SIP_TIMEOUT": "20s"}, err: "SFBEX_SIP_TIMEOUT=20s is longer than SFBEX_SIP_INTERVAL=10s"},
		{name: "request over run", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_TIMEOUT": "5s", "SFBEX_SIP_REQUEST_TIMEOUT": "10s"}, err: "SFBEX_SIP_REQUEST_TIMEOUT=10s is longer than SFBEX_SIP_TIMEOUT=5s"},
		{name: "bad duration", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_INTERVAL": "often"}, err: `SFBEX_SIP_INTERVAL="often" is not a valid duration`},
		{name: "answer cap too small", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_MAX_ANSWER_BYTES": "100"}, err: "SFBEX_SIP_MAX_ANSWER_BYTES=100 must be from 1024 to 1048576"},
		{name: "bad status", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_ACCEPT_STATUS": "ok"}, err: `SFBEX_SIP_ACCEPT_STATUS: "ok" is not a SIP status code`},
		{name: "status out of range", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_ACCEPT_STATUS": "200,99"}, err: "SFBEX_SIP_ACCEPT_STATUS=99 must be from 100 to 699"},
		{name: "no status", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_ACCEPT_STATUS": "none"}, err: "is not a list of SIP status codes"},
		{name: "bad from", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_FROM": "probe"}, err: `SFBEX_SIP_FROM="probe" is not a SIP address user@domain`},
		{name: "key without cert", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_KEY": key}, err: "SFBEX_SIP_CLIENT_KEY is set without SFBEX_SIP_CLIENT_CERT"},
		{name: "missing cert file", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": "/nonexistent/client.pem"}, err: `SFBEX_SIP_CLIENT_CERT: cannot read "/nonexistent/client.pem"`},
		{name: "PEM without key", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": cert}, err: "give a PEM certificate and its unencrypted private key"},
		{name: "PFX, wrong password", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": pfx, "SFBEX_SIP_CLIENT_CERT_PASSWORD": "wrong-827"}, err: "SFBEX_SIP_CLIENT_CERT_PASSWORD does not open"},
		{name: "PFX, password and file", mode: estate.OnPrem, env: map[string]string{"SFBEX_SIP_CLIENT_CERT": pfx, "SFBEX_SIP_CLIENT_CERT_PASSWORD": pfxPassword, "SFBEX_SIP_CLIENT_CERT_PASSWORD_FILE": pwFile}, err: "are both set: set only one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &probes.Env{Vars: config.Map(tc.env), Estate: testEstate(tc.mode), Web: &webclient.Settings{}}
			checks, err := Family.Checks(env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				for _, secret := range []string{pfxPassword, "wrong-827"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error shows a password: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range checks {
				got = append(got, c.ID())
				if c.Interval != time.Minute || c.Timeout != 30*time.Second {
					t.Errorf("%s: interval %s timeout %s", c.ID(), c.Interval, c.Timeout)
				}
			}
			if !slices.Equal(got, tc.checks) {
				t.Fatalf("checks %v, want %v", got, tc.checks)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	_, _, _, pfx := clientFiles(t)
	s, _, err := Load(config.Map(map[string]string{"SFBEX_SIP_CLIENT_CERT": pfx, "SFBEX_SIP_CLIENT_CERT_PASSWORD": pfxPassword, "SFBEX_SIP_ACCEPT_STATUS": "200, 403"}), testEstate(estate.OnPrem))
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientCert == nil || s.ClientCertSubject != "sfbex-probe.contoso.test" || !slices.Equal(s.Accept, []int{200, 403}) || s.From != "sfbex-probe@contoso.com" {
		t.Fatalf("settings %+v", s)
	}
	e := testEstate(estate.OnPrem)
	if v := Views(e, Federation); len(v) != 1 || v[0].Name != "external" {
		t.Fatalf("federation views %v", v)
	}
	if v := Views(e, Internal); len(v) != 1 || v[0].Name != "internal" {
		t.Fatalf("internal views %v", v)
	}
	e.Resolvers = []estate.Resolver{{Name: "system", Addr: "127.0.0.53:53"}}
	if v := Views(e, Internal); len(v) != 1 || v[0].Name != "system" {
		t.Fatalf("internal views without an internal resolver %v", v)
	}
	// Every variable is the family's, and none is the estate's.
	for _, n := range config.Names(Family.Vars) {
		if !strings.HasPrefix(n, "SFBEX_SIP_") || n == "SFBEX_SIP_DOMAINS" {
			t.Errorf("variable %s", n)
		}
	}
}
