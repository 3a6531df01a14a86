package certs

import (
	"regexp"
	"testing"
	"time"
)

var hex40 = regexp.MustCompile(`^[0-9A-F]{40}$`)

// FuzzParseMetadata feeds the parser whatever a metadata URL might return.
// The seed corpus (testdata/fuzz/FuzzParseMetadata) holds Exchange, Skype
// for Business and ACS shaped documents, BOMs, HTML and broken shapes.
// A document either fails or yields certificates the prober can judge.
func FuzzParseMetadata(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := ParseMetadata(body)
		if err != nil {
			if md != nil {
				t.Fatal("a result with an error")
			}
			return
		}
		if len(md.Keys) > maxMetadataKeys {
			t.Fatalf("%d keys", len(md.Keys))
		}
		var cs []OAuthCert
		for _, k := range md.Keys {
			if !hex40.MatchString(k.Cert.Thumbprint) || len(k.Cert.X5T) != 27 || k.Cert.X509() == nil {
				t.Fatalf("key without a proper certificate: %+v", k.Cert)
			}
			_ = k.X5TMatches()
			cs = append(cs, OAuthCert{Cert: k.Cert})
		}
		// Roles must be assignable whatever the dates: exactly one current.
		AssignRoles(cs, time.Now())
		current := 0
		for _, c := range cs {
			if c.Role == RoleCurrent {
				current++
			}
			if c.Role == "" {
				t.Fatal("a certificate without a role")
			}
		}
		if len(cs) > 0 && current != 1 {
			t.Fatalf("%d current certificates", current)
		}
		again, err := ParseMetadata(body)
		if err != nil || len(again.Keys) != len(md.Keys) {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}
