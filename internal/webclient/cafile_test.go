package webclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func pemCert(t *testing.T) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Contoso Root"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// testdata/negative-serial.pem was made as Samba makes its own certificate
// (serial -0x444) with: openssl req -x509 -newkey ec -set_serial -1092 …
func TestLoadCAFileSaysWhatIsWrong(t *testing.T) {
	negative, err := os.ReadFile("testdata/negative-serial.pem")
	if err != nil {
		t.Fatal(err)
	}
	good := pemCert(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name     string
		data     []byte
		inErr    []string
		inHint   []string
		notInErr string
	}{
		{"negative serial", negative, []string{"1 PEM block(s)", "block 1 (CERTIFICATE)", "negative serial number"},
			[]string{"GODEBUG=x509negativeserial=1", "SFBEX_TLS_INSECURE_HOSTS does not help"}, "holds no PEM certificate"},
		{"good CA then a broken one", append(append([]byte{}, good...), negative...), []string{"2 PEM block(s)", "block 2 (CERTIFICATE)", "negative serial number"},
			[]string{"GODEBUG=x509negativeserial=1"}, ""},
		{"a key only", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), []string{"no CERTIFICATE block, only PRIVATE KEY"},
			[]string{"not at a key"}, ""},
		{"not PEM", []byte("dc01.contoso.com\n"), []string{"holds no PEM certificate"}, []string{"PEM bundle"}, ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".pem")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		pool, err := LoadCAFile(path)
		var cfe *CAFileError
		if err == nil || pool != nil || !errors.As(err, &cfe) {
			t.Errorf("%s: pool %v, err %v", c.name, pool, err)
			continue
		}
		for _, w := range c.inErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", c.name, w, err)
			}
		}
		for _, w := range c.inHint {
			if !strings.Contains(cfe.Hint, w) {
				t.Errorf("%s: hint lacks %q: %s", c.name, w, cfe.Hint)
			}
		}
		if c.notInErr != "" && strings.Contains(err.Error(), c.notInErr) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	path := filepath.Join(dir, "good.pem")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if pool, err := LoadCAFile(path); err != nil || pool == nil {
		t.Errorf("a good CA: %v", err)
	}
}
