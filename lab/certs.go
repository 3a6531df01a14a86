package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The certificate part of the lab (probes/certs): the auth metadata
// documents Exchange and the Skype for Business pool publish, and the
// Edge's TLS certificate, each switchable to its faults.
//
// The healthy lab is healthy: the Exchange auth certificate has 400 days
// left and a next certificate (five years) is already staged; the Skype
// for Business OAuthTokenIssuer certificate is RSA-2048 with CN=contoso.test;
// the Edge presents sip.contoso.test. A missing next certificate matters
// only inside the renewal window (SFBEX_OAUTH_RENEW_DAYS, 60 days), so
// oauth-next-missing also moves the current certificate to 45 days left.

// Exchange and Skype for Business service principals (domain-facts §3).
const (
	exchangeServiceName = "00000002-0000-0ff1-ce00-000000000000"
	sfbServiceName      = "00000004-0000-0ff1-ce00-000000000000"
)

// labKeys are made once per process: RSA generation is slow, and every
// lab (the tests start many) and every fault variant can share them.
var labKeys = sync.OnceValues(func() (*keySet, error) {
	var ks keySet
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i, job := range []struct {
		dst  *crypto.Signer
		bits int
	}{{&ks.exCurrent, 2048}, {&ks.exNext, 2048}, {&ks.sfb, 2048}, {&ks.sfb1024, 1024}, {&ks.edge, 0}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if job.bits == 0 {
				*job.dst, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			} else {
				*job.dst, err = rsa.GenerateKey(rand.Reader, job.bits)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &ks, nil
})

type keySet struct {
	exCurrent, exNext, sfb, sfb1024, edge crypto.Signer
}

// certLab holds every certificate the faults switch between, issued at start.
type certLab struct {
	exHealthy, ex45, ex10, exExpired, exNext []byte // DER
	sfb, sfb1024, sfbNoDomain, sfbBoth       []byte
	edge, edgeWrongName, edgeExpired         tls.Certificate
	edgeExpiredWrongName                     tls.Certificate
}

func (l *Lab) startCerts() error {
	keys, err := labKeys()
	if err != nil {
		return err
	}
	now := time.Now()
	day := 24 * time.Hour
	c := &certLab{}
	der := func(dst *[]byte, spec CertSpec) {
		if err != nil {
			return
		}
		var tc tls.Certificate
		tc, err = l.ca.Issue(spec)
		if err == nil {
			*dst = tc.Certificate[0]
		}
	}
	exAuth := pkix.Name{CommonName: "Microsoft Exchange Server Auth Certificate"}
	exchange := func(dst *[]byte, notBefore, notAfter time.Time) {
		der(dst, CertSpec{Subject: exAuth, NotBefore: notBefore, NotAfter: notAfter, SelfSigned: true, Key: keys.exCurrent})
	}
	// Exchange creates its auth certificate for five years.
	exchange(&c.exHealthy, now.Add(400*day).AddDate(-5, 0, 0), now.Add(400*day))
	exchange(&c.ex45, now.Add(45*day).AddDate(-5, 0, 0), now.Add(45*day))
	exchange(&c.ex10, now.Add(10*day).AddDate(-5, 0, 0), now.Add(10*day))
	exchange(&c.exExpired, now.Add(-3*day).AddDate(-5, 0, 0), now.Add(-3*day))
	der(&c.exNext, CertSpec{Subject: exAuth, NotBefore: now.Add(-day), NotAfter: now.AddDate(5, 0, 0), SelfSigned: true, Key: keys.exNext})

	sfbSubject := pkix.Name{CommonName: Domain, Organization: []string{"Contoso"}}
	noDomain := pkix.Name{CommonName: "sfbpool01.corp.local", Organization: []string{"Contoso"}}
	sfb := func(dst *[]byte, subject pkix.Name, key crypto.Signer) {
		der(dst, CertSpec{Subject: subject, DNSNames: []string{subject.CommonName}, NotAfter: now.AddDate(2, 0, 0), Key: key})
	}
	sfb(&c.sfb, sfbSubject, keys.sfb)
	sfb(&c.sfb1024, sfbSubject, keys.sfb1024)
	sfb(&c.sfbNoDomain, noDomain, keys.sfb)
	sfb(&c.sfbBoth, noDomain, keys.sfb1024)

	edge := func(dst *tls.Certificate, names []string, notAfter time.Time) {
		if err != nil {
			return
		}
		*dst, err = l.ca.Issue(CertSpec{Subject: pkix.Name{CommonName: names[0], Organization: []string{"Contoso"}}, DNSNames: names,
			NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter, Key: keys.edge})
	}
	wrong := []string{"edge01." + Domain, "access." + Domain}
	edge(&c.edge, edgeNames, now.AddDate(1, 0, 0))
	edge(&c.edgeWrongName, wrong, now.AddDate(1, 0, 0))
	edge(&c.edgeExpired, edgeNames, now.Add(-2*day))
	edge(&c.edgeExpiredWrongName, wrong, now.Add(-2*day))
	if err != nil {
		return fmt.Errorf("issuing the lab's certificates: %w", err)
	}

	l.Exchange.Mux.HandleFunc("GET /autodiscover/metadata/json/1", func(w http.ResponseWriter, r *http.Request) {
		writeMetadata(w, l.exchangeMetadata(c))
	})
	l.Pool.Mux.HandleFunc("GET /metadata/json/1", func(w http.ResponseWriter, r *http.Request) {
		writeMetadata(w, l.sfbMetadata(c))
	})
	apply := func() {
		switch wrongName, expired := l.On("edge-cert-wrong-name"), l.On("tls-expired"); {
		case wrongName && expired:
			l.Edge.SetCert(c.edgeExpiredWrongName)
		case wrongName:
			l.Edge.SetCert(c.edgeWrongName)
		case expired:
			l.Edge.SetCert(c.edgeExpired)
		default:
			l.Edge.SetCert(c.edge)
		}
	}
	apply()
	l.onChange(apply)
	return nil
}

// exchangeMetadata is Exchange's document, with the current certificate
// and, unless a fault removes it, the staged next one.
func (l *Lab) exchangeMetadata(c *certLab) map[string]any {
	current, next := c.exHealthy, c.exNext
	switch {
	case l.On("oauth-expired"):
		current, next = c.exExpired, nil // nobody staged a next certificate
	case l.On("oauth-expiring"):
		current = c.ex10
	case l.On("oauth-next-missing"):
		current = c.ex45
	}
	if l.On("oauth-next-missing") {
		next = nil
	}
	keys := []any{exchangeKey(current)}
	if next != nil {
		keys = append(keys, exchangeKey(next))
	}
	realm := Domain
	return map[string]any{
		"id": "_b4c1e6a2-lab", "version": "1.0", "name": "Exchange", "realm": realm,
		"serviceName": exchangeServiceName, "issuer": exchangeServiceName + "@" + realm,
		"allowedAudiences": []string{exchangeServiceName + "@" + realm},
		"keys":             keys,
		"endpoints": []any{map[string]string{
			"location": "https://autodiscover." + Domain + "/autodiscover/metadata/json/1", "protocol": "OAuth2", "usage": "metadata",
		}},
	}
}

func exchangeKey(der []byte) map[string]any {
	return map[string]any{
		"usage":    "signing",
		"keyinfo":  map[string]string{"x5t": x5t(der)},
		"keyvalue": map[string]string{"type": "x509Certificate", "value": base64.StdEncoding.EncodeToString(der)},
	}
}

// sfbMetadata is the pool's document. It uses the other key case and
// leaves keyinfo out, as some servers do (domain-facts §3), so the lab
// exercises the tolerant parser.
func (l *Lab) sfbMetadata(c *certLab) map[string]any {
	cert := c.sfb
	switch small, noDomain := l.On("sfb-cert-1024"), l.On("sfb-cert-no-sip-domain"); {
	case small && noDomain:
		cert = c.sfbBoth
	case small:
		cert = c.sfb1024
	case noDomain:
		cert = c.sfbNoDomain
	}
	return map[string]any{
		"id": "_7e0d3f51-lab", "version": "1.0", "name": "Skype for Business Server", "realm": Domain,
		"serviceName": sfbServiceName, "issuer": sfbServiceName + "@" + Domain,
		"allowedAudiences": []string{sfbServiceName + "@" + Domain},
		"keys": []any{map[string]any{
			"usage":    "Signing",
			"keyValue": map[string]string{"type": "x509certificate", "value": base64.StdEncoding.EncodeToString(cert)},
		}},
		"endpoints": []any{map[string]string{"location": "https://pool01." + Domain + "/metadata/json/1", "protocol": "OAuth2", "usage": "metadata"}},
	}
}

func writeMetadata(w http.ResponseWriter, doc map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

func x5t(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // see import
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
