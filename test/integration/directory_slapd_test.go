package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/web"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/directory"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

const (
	slapdSuffix   = "DC=contoso,DC=test"
	slapdBindDN   = "CN=svc-sfbex,DC=contoso,DC=test"
	slapdPassword = "Sl4pd-Test-Pa55word"
)

// directoryLDIF is the suffix, the service account and users: the lab's
// 500 (lab.LabUsers, whose figures are known) or n healthy ones.
func directoryLDIF(users []lab.DirEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: contoso\no: Contoso\n\n", slapdSuffix)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: person\ncn: svc-sfbex\nsn: svc\nuserPassword: %s\n\n", slapdBindDN, slapdPassword)
	for _, ou := range []string{"OU=Contoso," + slapdSuffix, "OU=Users,OU=Contoso," + slapdSuffix} {
		name := strings.TrimPrefix(strings.SplitN(ou, ",", 2)[0], "OU=")
		fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: %s\n\n", ou, name)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "dn: %s\nsn: %s\n", u.DN, u.Attrs["cn"][0])
		for k, vs := range u.Attrs {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func healthyUsers(n int) []lab.DirEntry {
	out := make([]lab.DirEntry, 0, n)
	for i := range n {
		name := fmt.Sprintf("h%06d", i)
		a := name + "@contoso.test"
		out = append(out, lab.DirEntry{DN: "CN=" + name + ",OU=Users,OU=Contoso," + slapdSuffix, Attrs: map[string][]string{
			"objectClass": {"user"}, "cn": {name}, "userAccountControl": {"512"}, "mail": {a},
			"msRTCSIP-PrimaryUserAddress": {"sip:" + a}, "msRTCSIP-UserEnabled": {"TRUE"},
			"proxyAddresses": {"SMTP:" + a, "SIP:" + a},
		}})
	}
	return out
}

func slapdScan(t *testing.T, cfg directory.Config) (*directory.Result, error) {
	t.Helper()
	if cfg.BindDN == "" {
		cfg.BindDN, cfg.Password = slapdBindDN, slapdPassword
	}
	cfg.BaseDN, cfg.SIPDomains, cfg.MinCoverage = slapdSuffix, []string{"contoso.test"}, 0.95
	p, err := directory.NewProber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if err != nil {
		return nil, err
	}
	return r.(*directory.Result), nil
}

func stats(r *directory.Result, d string) directory.DomainStats {
	for _, s := range r.Domains {
		if s.Domain == d {
			return s
		}
	}
	return directory.DomainStats{}
}

// The same users as the lab: the same figures, from a real server with the
// bit-and rule and 1000-entry pages.
func TestSlapdExactFigures(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(lab.LabUsers(lab.DirectoryUsers, false))})
	for _, pageSize := range []int{1000, 50} {
		r, err := slapdScan(t, directory.Config{URL: s.URL, PageSize: pageSize})
		if err != nil {
			t.Fatal(err)
		}
		want := directory.DomainStats{Domain: "contoso.test", Users: 488, WithSIPProxy: 477, MissingMail: 10, Mismatch: 6, Invalid: 1, Duplicates: 1}
		if got := stats(r, "contoso.test"); got != want {
			t.Errorf("page size %d:\n got %+v\nwant %+v", pageSize, got, want)
		}
		if o := stats(r, directory.Other); o.Users != 3 {
			t.Errorf("other: %+v", o)
		}
		if r.Entries != 491 || r.Pages != (491+pageSize-1)/pageSize {
			t.Errorf("page size %d: %d entries in %d pages", pageSize, r.Entries, r.Pages)
		}
	}
	r, err := slapdScan(t, directory.Config{URL: s.URL, IncludeDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := stats(r, "contoso.test"); d.AccountDisabled != 4 || d.Users != 488 {
		t.Errorf("include disabled: %+v", d)
	}
}

// 5,000 users: five full pages past slapd's 1000-entry size limit.
func TestSlapdPagingManyPages(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(5000))})
	r, err := slapdScan(t, directory.Config{URL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	if d := stats(r, "contoso.test"); d.Users != 5000 || d.WithSIPProxy != 5000 || d.Duplicates != 0 {
		t.Errorf("%+v", d)
	}
	if r.Pages != 5 || r.Entries != 5000 {
		t.Errorf("%d entries in %d pages, want 5000 in 5", r.Entries, r.Pages)
	}
}

func TestSlapdWrongPassword(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3))})
	const wrong = "Wr0ng-Secret-Value"
	_, err := slapdScan(t, directory.Config{URL: s.URL, BindDN: slapdBindDN, Password: wrong})
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	text := err.Error() + probes.FixOf(err)
	if !strings.Contains(err.Error(), "invalid credentials") || strings.Contains(text, wrong) {
		t.Errorf("error: %s", text)
	}
}

// slapd killed mid-scan: the scan fails, and the store keeps showing the
// last complete figures, marked stale, with the error.
func TestSlapdKilledMidScanKeepsLastGoodFigures(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3000))})
	check := &probes.Check{Probe: "directory", Target: "slapd", Interval: time.Hour, Timeout: time.Minute}
	store := collector.NewStore([]*probes.Check{check})
	good, err := slapdScan(t, directory.Config{URL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	store.Record(check.ID(), collector.Run{Start: time.Now(), Result: good})

	// A proxy that kills slapd by PID once 100 kB came back: page size 5
	// makes the scan slow enough to be cut in its middle.
	proxy := killingProxy(t, strings.TrimPrefix(s.URL, "ldap://"), 100_000, s.Kill)
	_, err = slapdScan(t, directory.Config{URL: "ldap://" + proxy, PageSize: 5})
	if err == nil {
		t.Fatal("scan succeeded although slapd was killed")
	}
	store.Record(check.ID(), collector.Run{Start: time.Now(), Err: err})
	e := store.Entries()[0]
	shown, ok := e.Shown.(*directory.Result)
	if !ok || stats(shown, "contoso.test").Users != 3000 || !e.Stale || e.Latest.Err == nil {
		t.Errorf("after the failed scan: shown %v, stale %v, err %v", e.Shown, e.Stale, e.Latest.Err)
	}
	v := web.Views(store.Entries())[0]
	if v.Error == "" || !v.Stale {
		t.Errorf("view: %+v", v)
	}
	t.Logf("error shown: %s", v.Error)

	// The server comes back: the next scan publishes complete figures again.
	s.Restart(t)
	again, err := slapdScan(t, directory.Config{URL: s.URL})
	if err != nil {
		t.Fatalf("scan after restart: %v", err)
	}
	store.Record(check.ID(), collector.Run{Start: time.Now(), Result: again})
	e = store.Entries()[0]
	if shown, ok := e.Shown.(*directory.Result); !ok || stats(shown, "contoso.test").Users != 3000 || e.Stale || e.Latest.Err != nil {
		t.Errorf("after restart: shown %v, stale %v, err %v", e.Shown, e.Stale, e.Latest.Err)
	}
}

func killingProxy(t *testing.T, target string, limit int64, kill func()) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp4", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					k, err := up.Read(buf)
					if k > 0 {
						if _, werr := c.Write(buf[:k]); werr != nil {
							return
						}
						if n.Add(int64(k)) > limit && n.Load()-int64(k) <= limit {
							go kill()
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// ldapTestPKI writes a CA and a server certificate for 127.0.0.1 into dir.
func ldapTestPKI(t *testing.T, dir string) (caPool *x509.CertPool, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sfbex test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	return caPool, certFile, keyFile
}

func TestSlapdStartTLSAndLDAPS(t *testing.T) {
	pool, cert, key := ldapTestPKI(t, t.TempDir())
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(20)), CertFile: cert, KeyFile: key})
	trusted := &webclient.Options{RootCAs: pool}
	for _, cfg := range []directory.Config{
		{URL: s.URL, StartTLS: true, Web: trusted},
		{URL: s.LDAPSURL, Web: trusted},
	} {
		r, err := slapdScan(t, cfg)
		if err != nil {
			t.Errorf("%s (StartTLS %v): %v", cfg.URL, cfg.StartTLS, err)
			continue
		}
		if stats(r, "contoso.test").Users != 20 {
			t.Errorf("%s: %+v", cfg.URL, r.Domains)
		}
	}
	// Without the CA: a TLS error that says to set SFBEX_CA_FILE.
	for _, cfg := range []directory.Config{{URL: s.URL, StartTLS: true}, {URL: s.LDAPSURL}} {
		_, err := slapdScan(t, cfg)
		if err == nil || !strings.Contains(err.Error(), "TLS") || !strings.Contains(probes.FixOf(err), "SFBEX_CA_FILE") {
			t.Errorf("%s untrusted: %v / %s", cfg.URL, err, probes.FixOf(err))
		}
	}
	// SFBEX_TLS_INSECURE_HOSTS applies too.
	if _, err := slapdScan(t, directory.Config{URL: s.LDAPSURL, Web: &webclient.Options{InsecureHosts: []string{"127.0.0.1"}}}); err != nil {
		t.Errorf("insecure host: %v", err)
	}
}
