package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes/certs"
)

func labWeb(t *testing.T, l *Lab) *webclient.Options {
	t.Helper()
	env := l.Env(time.Minute)
	ct, err := webclient.ParseConnectTo(env["SFBEX_CONNECT_TO"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(l.CA().PEM)
	return &webclient.Options{RootCAs: pool, ConnectTo: ct}
}

func fetchMetadata(t *testing.T, web *webclient.Options, url string) *certs.Metadata {
	t.Helper()
	resp, err := web.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	md, err := certs.ParseMetadata(b)
	if err != nil {
		t.Fatalf("%s: %v\n%s", url, err, b)
	}
	return md
}

func daysLeft(k certs.MetadataKey) int { return int(math.Round(k.Cert.DaysLeft(time.Now()))) }

func TestLabMetadataFollowsTheFaults(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	web := labWeb(t, l)
	env := l.Env(time.Minute)
	exURL := "https://autodiscover." + Domain + "/autodiscover/metadata/json/1"
	sfbURL := env["SFBEX_SFB_METADATA_URLS"]

	md := fetchMetadata(t, web, exURL)
	if len(md.Keys) != 2 || daysLeft(md.Keys[0]) != 400 || daysLeft(md.Keys[1]) < 1800 || md.ServiceName != exchangeServiceName {
		t.Fatalf("healthy Exchange document: %+v", md)
	}
	if md.Keys[0].Cert.SubjectCN != "Microsoft Exchange Server Auth Certificate" || !md.Keys[0].Cert.SelfSigned || md.Keys[0].Cert.KeyBits != 2048 {
		t.Fatalf("auth certificate %+v", md.Keys[0].Cert)
	}
	sfb := fetchMetadata(t, web, sfbURL)
	if len(sfb.Keys) != 1 || sfb.Keys[0].X5T != "" || sfb.Keys[0].Usage != "Signing" || sfb.Keys[0].Cert.SubjectCN != Domain || sfb.Keys[0].Cert.KeyBits != 2048 {
		t.Fatalf("healthy Skype for Business document: %+v", sfb)
	}

	for _, tc := range []struct {
		faults []string
		check  func(ex, sfb *certs.Metadata) bool
	}{
		{[]string{"oauth-expiring"}, func(ex, _ *certs.Metadata) bool { return len(ex.Keys) == 2 && daysLeft(ex.Keys[0]) == 10 }},
		{[]string{"oauth-expiring", "oauth-next-missing"}, func(ex, _ *certs.Metadata) bool { return len(ex.Keys) == 1 && daysLeft(ex.Keys[0]) == 10 }},
		{[]string{"oauth-expired"}, func(ex, _ *certs.Metadata) bool { return len(ex.Keys) == 1 && daysLeft(ex.Keys[0]) == -3 }},
		{[]string{"oauth-next-missing"}, func(ex, _ *certs.Metadata) bool { return len(ex.Keys) == 1 && daysLeft(ex.Keys[0]) == 45 }},
		{[]string{"sfb-cert-1024"}, func(_, s *certs.Metadata) bool {
			return s.Keys[0].Cert.KeyBits == 1024 && s.Keys[0].Cert.SubjectCN == Domain
		}},
		{[]string{"sfb-cert-no-sip-domain"}, func(_, s *certs.Metadata) bool {
			return s.Keys[0].Cert.KeyBits == 2048 && !certs.SubjectHasDomain(s.Keys[0].Cert.X509(), Domain)
		}},
		{[]string{"sfb-cert-1024", "sfb-cert-no-sip-domain"}, func(_, s *certs.Metadata) bool {
			return s.Keys[0].Cert.KeyBits == 1024 && !certs.SubjectHasDomain(s.Keys[0].Cert.X509(), Domain)
		}},
	} {
		name := strings.Join(tc.faults, "+")
		for _, f := range tc.faults {
			if err := l.Set(f, true); err != nil {
				t.Fatal(err)
			}
		}
		if !tc.check(fetchMetadata(t, web, exURL), fetchMetadata(t, web, sfbURL)) {
			t.Errorf("%s: the documents do not show the fault", name)
		}
		for _, f := range tc.faults {
			_ = l.Set(f, false)
		}
	}
	if md := fetchMetadata(t, web, exURL); len(md.Keys) != 2 || daysLeft(md.Keys[0]) != 400 {
		t.Fatal("switching the faults off does not heal the lab")
	}
}

func edgeLeaf(t *testing.T, l *Lab, port string) *x509.Certificate {
	t.Helper()
	web := labWeb(t, l)
	raw, err := web.DialContext(context.Background(), "tcp", "sip."+Domain+":"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cfg := web.TLSConfig("sip." + Domain)
	cfg.InsecureSkipVerify = true
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	return c.ConnectionState().PeerCertificates[0]
}

func TestLabEdgeCertificateFollowsTheFaults(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, port := range []string{"443", "5061"} {
		if c := edgeLeaf(t, l, port); c.VerifyHostname("sip."+Domain) != nil || time.Now().After(c.NotAfter) {
			t.Fatalf("healthy Edge on %s presents %v", port, c.DNSNames)
		}
	}
	_ = l.Set("edge-cert-wrong-name", true)
	if c := edgeLeaf(t, l, "5061"); c.VerifyHostname("sip."+Domain) == nil {
		t.Fatal("edge-cert-wrong-name: the certificate still covers sip.contoso.test")
	}
	_ = l.Set("tls-expired", true)
	if c := edgeLeaf(t, l, "443"); c.VerifyHostname("sip."+Domain) == nil || time.Now().Before(c.NotAfter) {
		t.Fatal("both faults: want an expired certificate without sip.contoso.test")
	}
	_ = l.Set("edge-cert-wrong-name", false)
	if c := edgeLeaf(t, l, "443"); c.VerifyHostname("sip."+Domain) != nil || time.Now().Before(c.NotAfter) {
		t.Fatal("tls-expired: want an expired certificate for sip.contoso.test")
	}
	_ = l.Set("tls-expired", false)
	if c := edgeLeaf(t, l, "443"); c.VerifyHostname("sip."+Domain) != nil || time.Now().After(c.NotAfter) {
		t.Fatal("switching the faults off does not heal the Edge")
	}
}
