// Package certs watches the certificates the Skype for Business / Exchange
// integration depends on (domain-facts §3, seed 003): the OAuth signing
// certificates Exchange and Skype for Business publish in their auth
// metadata documents, the TLS certificates of the endpoints clients and
// federation partners connect to, and certificates exported to disk.
//
// Every probe reports what a certificate is even when it is expired,
// untrusted or for the wrong name: those are the cases worth a page.
package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t and Windows thumbprints are SHA-1 by definition
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// Cert is what the probes report about one certificate.
type Cert struct {
	SubjectCN string `json:"subject_cn"`
	Subject   string `json:"subject"`
	IssuerCN  string `json:"issuer_cn"`
	Issuer    string `json:"issuer"`
	// Serial is upper-case hex, as Windows shows it.
	Serial string `json:"serial"`
	// Thumbprint is the SHA-1 of the DER encoding in upper-case hex, as
	// Get-ExchangeCertificate, Get-AuthConfig and Get-CsCertificate show it.
	Thumbprint string `json:"thumbprint"`
	// X5T is the same hash as base64url, as auth metadata documents publish it.
	X5T          string    `json:"x5t"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	KeyAlgorithm string    `json:"key_algorithm"` // RSA, ECDSA, Ed25519 or unknown
	KeyBits      int       `json:"key_bits"`
	SignatureAlg string    `json:"signature_algorithm"`
	SelfSigned   bool      `json:"self_signed"`
	IsCA         bool      `json:"is_ca"`
	DNSNames     []string  `json:"dns_names,omitempty"`

	x509 *x509.Certificate
}

// Describe extracts the facts the probes report from c.
func Describe(c *x509.Certificate) Cert {
	sum := sha1.Sum(c.Raw) //nolint:gosec // see import
	out := Cert{
		SubjectCN:    c.Subject.CommonName,
		Subject:      c.Subject.String(),
		IssuerCN:     c.Issuer.CommonName,
		Issuer:       c.Issuer.String(),
		Thumbprint:   strings.ToUpper(hex.EncodeToString(sum[:])),
		X5T:          base64.RawURLEncoding.EncodeToString(sum[:]),
		NotBefore:    c.NotBefore,
		NotAfter:     c.NotAfter,
		SelfSigned:   selfSigned(c),
		IsCA:         c.IsCA,
		DNSNames:     c.DNSNames,
		SignatureAlg: c.SignatureAlgorithm.String(),
		x509:         c,
	}
	if c.SerialNumber != nil {
		out.Serial = strings.ToUpper(c.SerialNumber.Text(16))
	}
	out.KeyAlgorithm, out.KeyBits = keyInfo(c)
	return out
}

// X509 returns the parsed certificate.
func (c *Cert) X509() *x509.Certificate { return c.x509 }

func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "ECDSA", 0
		}
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return "unknown", 0
}

// selfSigned: issued to itself by its own key. No signature check: old
// Exchange auth certificates are signed with SHA-1, which Go refuses to
// verify, and they are still self-signed.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	return len(c.AuthorityKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
}

// DaysLeft is how many days remain until NotAfter, negative once expired.
func (c *Cert) DaysLeft(now time.Time) float64 {
	return c.NotAfter.Sub(now).Hours() / 24
}

// Expired reports whether now is past NotAfter.
func (c *Cert) Expired(now time.Time) bool { return now.After(c.NotAfter) }

// NotYetValid reports whether now is before NotBefore.
func (c *Cert) NotYetValid(now time.Time) bool { return now.Before(c.NotBefore) }

// Validity says in words how long the certificate has left, for people.
func (c *Cert) Validity(now time.Time) string {
	switch {
	case c.NotYetValid(now):
		return fmt.Sprintf("not valid until %s", day(c.NotBefore))
	case c.Expired(now):
		return fmt.Sprintf("EXPIRED on %s (%s ago)", day(c.NotAfter), days(-c.DaysLeft(now)))
	default:
		return fmt.Sprintf("expires %s (%s left)", day(c.NotAfter), days(c.DaysLeft(now)))
	}
}

// Line describes the certificate in one line for the status page.
func (c *Cert) Line(now time.Time) string {
	cn := c.SubjectCN
	if cn == "" {
		cn = c.Subject
	}
	key := c.KeyAlgorithm
	if c.KeyBits > 0 {
		key = fmt.Sprintf("%s %d", c.KeyAlgorithm, c.KeyBits)
	}
	issuer := "issuer " + c.IssuerCN
	if c.SelfSigned {
		issuer = "self-signed"
	}
	return fmt.Sprintf("CN=%s, %s, %s, serial %s, thumbprint %s, %s", cn, issuer, key, c.Serial, c.Thumbprint, c.Validity(now))
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

// days renders a day count people read at a glance: "10 days", "0.4 days".
func days(d float64) string {
	if d < 1 {
		return fmt.Sprintf("%.1f days", math.Max(d, 0))
	}
	if d < 2 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", int(math.Round(d)))
}

// SubjectHasDomain reports whether an attribute of the certificate's
// Subject names domain: equals it, or is a name inside it
// ("pool01.contoso.com", "*.contoso.com"). Seed 003 asks that the Skype for
// Business OAuthTokenIssuer certificate "includes the name of your SIP
// domain in the Subject field".
func SubjectHasDomain(c *x509.Certificate, domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if domain == "" {
		return false
	}
	for _, atv := range c.Subject.Names {
		v, ok := atv.Value.(string)
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".")
		if v == domain || strings.HasSuffix(v, "."+domain) {
			return true
		}
	}
	return false
}

// Thresholds are the day counts the findings use. docs/configuration.md
// explains each; domain-facts §3 gives the OAuth levels.
type Thresholds struct {
	// WarnDays: a TLS or file certificate with fewer days left is a warning.
	WarnDays int
	// CriticalDays: any certificate in use with fewer days left is critical
	// (an OAuth certificate with a staged next one: a warning to confirm the
	// switch).
	CriticalDays int
	// OAuthRenewDays: an OAuth certificate with fewer days left and no next
	// certificate staged is a warning (CSS-Exchange renews at 60).
	OAuthRenewDays int
	// OAuthNextMinDays: a staged next OAuth certificate with fewer days left
	// is a warning (CSS-Exchange replaces it below 120).
	OAuthNextMinDays int
	// MinRSABits: smaller RSA keys on OAuth certificates are a warning
	// (seed 003: at least 2048 bits).
	MinRSABits int
}

// DefaultThresholds are the documented defaults.
var DefaultThresholds = Thresholds{WarnDays: 30, CriticalDays: 14, OAuthRenewDays: 60, OAuthNextMinDays: 120, MinRSABits: 2048}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	if t.WarnDays > 0 {
		d.WarnDays = t.WarnDays
	}
	if t.CriticalDays > 0 {
		d.CriticalDays = t.CriticalDays
	}
	if t.OAuthRenewDays > 0 {
		d.OAuthRenewDays = t.OAuthRenewDays
	}
	if t.OAuthNextMinDays > 0 {
		d.OAuthNextMinDays = t.OAuthNextMinDays
	}
	if t.MinRSABits > 0 {
		d.MinRSABits = t.MinRSABits
	}
	return d
}
