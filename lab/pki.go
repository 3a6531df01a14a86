package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

// CA is the lab's certificate authority. In lab mode the agent trusts it
// (SFBEX_CA_FILE), as an admin would add an enterprise CA.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte
}

// NewCA creates a certificate authority of the lab's kind, for tests that
// need their own certificates (the SIP family's TLS peers, Kamailio).
func NewCA() (*CA, error) { return newCA() }

func newCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Contoso Lab Root CA", Organization: []string{"sfbex_exporter lab"}},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// CertSpec describes a certificate the lab issues.
type CertSpec struct {
	Subject   pkix.Name
	DNSNames  []string
	NotBefore time.Time // zero: a day ago
	NotAfter  time.Time // zero: a year from now
	// RSABits selects an RSA key of that size; 0 selects ECDSA P-256.
	RSABits int
	// SelfSigned signs the certificate with its own key (as Exchange's Auth
	// Certificate is) instead of the lab CA.
	SelfSigned bool
	// Key, when set, is used instead of a new key (RSA generation is slow:
	// fault variants reuse the keys made at start). RSABits is then ignored.
	Key crypto.Signer
}

// Issue creates a certificate and its key.
func (ca *CA) Issue(spec CertSpec) (tls.Certificate, error) {
	key := spec.Key
	var err error
	switch {
	case key != nil:
	case spec.RSABits > 0:
		key, err = rsa.GenerateKey(rand.Reader, spec.RSABits)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	if spec.NotBefore.IsZero() {
		spec.NotBefore = time.Now().Add(-24 * time.Hour)
	}
	if spec.NotAfter.IsZero() {
		spec.NotAfter = time.Now().AddDate(1, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      spec.Subject,
		DNSNames:     spec.DNSNames,
		NotBefore:    spec.NotBefore,
		NotAfter:     spec.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	parent, signer := ca.Cert, ca.Key
	if spec.SelfSigned {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{der}
	if !spec.SelfSigned {
		chain = append(chain, ca.Cert.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
