package certs

import (
	"crypto/sha1" //nolint:gosec // the thumbprint is SHA-1
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

func TestDescribeReportsWhatWindowsShows(t *testing.T) {
	c, _ := mint(t, nil, spec{subject: cn("Microsoft Exchange Server Auth Certificate"), key: "rsa2048a",
		notBefore: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	d := Describe(c)
	sum := sha1.Sum(c.Raw) //nolint:gosec
	if d.Thumbprint != strings.ToUpper(hex.EncodeToString(sum[:])) || len(d.Thumbprint) != 40 {
		t.Errorf("thumbprint %s", d.Thumbprint)
	}
	if d.X5T != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("x5t %s", d.X5T)
	}
	if d.Serial != strings.ToUpper(c.SerialNumber.Text(16)) {
		t.Errorf("serial %s", d.Serial)
	}
	if d.KeyAlgorithm != "RSA" || d.KeyBits != 2048 || !d.SelfSigned || d.SubjectCN != "Microsoft Exchange Server Auth Certificate" {
		t.Errorf("%+v", d)
	}
	ca, iss := mint(t, nil, spec{subject: cn("Root"), ca: true, key: "ec2"})
	leaf, _ := mint(t, iss, spec{subject: cn("sip.contoso.test"), key: "rsa1024"})
	if d := Describe(leaf); d.SelfSigned || d.IssuerCN != "Root" || d.KeyBits != 1024 {
		t.Errorf("leaf %+v", d)
	}
	if d := Describe(ca); !d.SelfSigned || !d.IsCA || d.KeyAlgorithm != "ECDSA" || d.KeyBits != 256 {
		t.Errorf("ca %+v", d)
	}
}

func TestValidityCountsDays(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Cert{NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(days_(10))}
	if got := c.Validity(now); !strings.Contains(got, "10 days left") || !strings.Contains(got, "2026-01-11") {
		t.Errorf("%q", got)
	}
	if c.DaysLeft(now) != 10 {
		t.Errorf("days left %v", c.DaysLeft(now))
	}
	c.NotAfter = now.Add(-days_(3))
	if got := c.Validity(now); !strings.Contains(got, "EXPIRED") || !strings.Contains(got, "3 days ago") || !c.Expired(now) {
		t.Errorf("%q", got)
	}
	c.NotBefore, c.NotAfter = now.Add(time.Hour), now.AddDate(1, 0, 0)
	if got := c.Validity(now); !strings.Contains(got, "not valid until") || !c.NotYetValid(now) {
		t.Errorf("%q", got)
	}
}

func TestSubjectHasDomain(t *testing.T) {
	oidOU := asn1.ObjectIdentifier{2, 5, 4, 11}
	for _, tc := range []struct {
		subject pkix.Name
		want    bool
	}{
		{cn("contoso.com"), true},
		{cn("Contoso.COM."), true},
		{cn("pool01.contoso.com"), true},
		{cn("*.contoso.com"), true},
		{cn("notcontoso.com"), false},
		{cn("contoso.com.evil.net"), false},
		{cn("sfbpool01.corp.local"), false},
		{pkix.Name{CommonName: "OAuth", Organization: []string{"contoso.com"}}, true},
		{pkix.Name{CommonName: "OAuth", ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOU, Value: "contoso.com"}}}, true},
		{pkix.Name{}, false},
	} {
		c, _ := mint(t, nil, spec{subject: tc.subject})
		if got := SubjectHasDomain(c, "contoso.com"); got != tc.want {
			t.Errorf("%q: %v, want %v", c.Subject, got, tc.want)
		}
	}
	c, _ := mint(t, nil, spec{subject: cn("contoso.com")})
	if SubjectHasDomain(c, "") {
		t.Error("the empty domain matched")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const pw = "Sup3r-S3cret!"
	s := config.Secret(pw)
	cfg := FilesConfig{Patterns: []string{"x"}, Password: s}
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %q %+v %#v %x", s, s, s, s, s, s), fmt.Sprintf("%+v %#v", cfg, cfg),
	} {
		if strings.Contains(out, pw) || strings.Contains(out, hex.EncodeToString([]byte(pw))) {
			t.Errorf("printed the password: %s", out)
		}
	}
	// The API serves a check's result as JSON (FilesConfig, with its Now
	// func, cannot be marshalled and is never served). Marshal a result the
	// password opened, and the secret alone and inside a struct.
	dir := t.TempDir()
	leaf, _ := mint(t, nil, spec{subject: cn("contoso.test"), key: "rsa2048a"})
	pfx, err := pkcs12.Modern.Encode(testKeys()["rsa2048a"], leaf, nil, pw)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "oauth.pfx"), pfx)
	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*.pfx")}, Password: s})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeFiles(t, p)
	if err != nil || len(r.Files) != 1 || !r.Files[0].Known {
		t.Fatalf("the password did not open the PFX: %v %+v", err, r.Files)
	}
	for _, v := range []any{r, s, struct{ Password config.Secret }{s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		if strings.Contains(string(b), pw) {
			t.Errorf("JSON holds the password: %s", b)
		}
		if _, isResult := v.(*FilesResult); isResult && !strings.Contains(string(b), "oauth.pfx") {
			t.Errorf("the result's JSON lacks the file: %s", b)
		} else if !isResult && !strings.Contains(string(b), "[redacted]") {
			t.Errorf("the secret's JSON does not say it is redacted: %s", b)
		}
	}
	if s.Reveal() != pw {
		t.Error("Reveal lost the password")
	}
}
