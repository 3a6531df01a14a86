package certs

import (
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestParseMetadataExchangeShape(t *testing.T) {
	cur, _ := mint(t, nil, spec{subject: cn("Microsoft Exchange Server Auth Certificate"), key: "rsa2048a"})
	next, _ := mint(t, nil, spec{subject: cn("Microsoft Exchange Server Auth Certificate"), key: "rsa2048b"})
	md, err := ParseMetadata(metadataJSON(t, "00000002-0000-0ff1-ce00-000000000000", signing(cur), signing(next)))
	if err != nil {
		t.Fatal(err)
	}
	if md.Realm != "contoso.test" || md.ServiceName != "00000002-0000-0ff1-ce00-000000000000" || md.Issuer != "00000002-0000-0ff1-ce00-000000000000@contoso.test" {
		t.Errorf("%+v", md)
	}
	if len(md.Keys) != 2 || md.Keys[0].Cert.Thumbprint != Describe(cur).Thumbprint || md.Keys[1].Cert.Thumbprint != Describe(next).Thumbprint {
		t.Fatalf("keys %+v", md.Keys)
	}
	for _, k := range md.Keys {
		if m := k.X5TMatches(); m == nil || !*m || !k.Signing() {
			t.Errorf("key %+v: x5t should match", k)
		}
	}
}

// The variations domain-facts §3 lists, and the ones Windows adds.
func TestParseMetadataIsTolerant(t *testing.T) {
	c, _ := mint(t, nil, spec{subject: cn("contoso.test"), key: "rsa2048a"})
	b64 := base64.StdEncoding.EncodeToString(c.Raw)
	x := Describe(c).X5T
	wrapped := ""
	for i := 0; i < len(b64); i += 64 {
		wrapped += b64[i:min(i+64, len(b64))] + "\r\n"
	}
	pemValue := strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), "\n", `\n`)
	for _, tc := range []struct {
		name string
		doc  string
		x5t  *bool
	}{
		{"lower case", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyinfo":{"x5t":"` + x + `"},"keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, ptr(true)},
		{"camel case, capital usage", `{"Realm":"r","servicename":"s","ISSUER":"i","Keys":[{"Usage":"Signing","keyInfo":{"X5T":"` + x + `"},"keyValue":{"Type":"x509certificate","Value":"` + b64 + `"}}]}`, ptr(true)},
		{"no keyinfo", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, nil},
		{"no usage, no type", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"keyvalue":{"value":"` + b64 + `"}}]}`, nil},
		{"padded x5t in the standard alphabet", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyinfo":{"x5t":"` + stdPadded(x) + `"},"keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, ptr(true)},
		{"base64url value without padding", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + base64.RawURLEncoding.EncodeToString(c.Raw) + `"}}]}`, nil},
		{"wrapped value", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + strings.ReplaceAll(wrapped, "\r\n", `\r\n`) + `"}}]}`, nil},
		{"PEM value", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + pemValue + `"}}]}`, nil},
		{"numbers and null", `{"version":1.0,"realm":null,"serviceName":"s","issuer":"i","allowedAudiences":"a","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, nil},
		{"UTF-8 BOM", "\xEF\xBB\xBF" + `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, nil},
		{"wrong x5t", `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyinfo":{"x5t":"AAAA"},"keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`, ptr(false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, err := ParseMetadata([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if len(md.Keys) != 1 || md.Keys[0].Cert.Thumbprint != Describe(c).Thumbprint || !md.Keys[0].Signing() {
				t.Fatalf("keys %+v", md.Keys)
			}
			got := md.Keys[0].X5TMatches()
			if (got == nil) != (tc.x5t == nil) || got != nil && *got != *tc.x5t {
				t.Errorf("x5t matches = %v, want %v", deref(got), deref(tc.x5t))
			}
		})
	}
	// Windows PowerShell 5.1 writes UTF-16LE with a BOM.
	doc := `{"realm":"r","serviceName":"s","issuer":"i","keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`
	for _, le := range []bool{true, false} {
		md, err := ParseMetadata(utf16Bytes(doc, le))
		if err != nil || len(md.Keys) != 1 || md.Realm != "r" {
			t.Errorf("UTF-16 (little endian %v): %v %+v", le, err, md)
		}
	}
}

func TestParseMetadataSkipsOtherKeyTypesAndUsages(t *testing.T) {
	c, _ := mint(t, nil, spec{subject: cn("a")})
	b64 := base64.StdEncoding.EncodeToString(c.Raw)
	md, err := ParseMetadata([]byte(`{"keys":[{"usage":"signing","keyvalue":{"type":"jwk","value":"{}"}},{"usage":"encryption","keyvalue":{"type":"x509Certificate","value":"` + b64 + `"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if md.Skipped != 1 || len(md.Keys) != 1 || md.Keys[0].Signing() {
		t.Fatalf("%+v", md)
	}
	if md, err := ParseMetadata([]byte(`{"keys":[]}`)); err != nil || len(md.Keys) != 0 {
		t.Fatalf("an empty key list is a document with no certificate: %v %+v", err, md)
	}
}

// What must fail, so that the prober keeps the last good document.
func TestParseMetadataRejectsWhatIsNotADocument(t *testing.T) {
	c, _ := mint(t, nil, spec{subject: cn("a")})
	b64 := base64.StdEncoding.EncodeToString(c.Raw)
	var many []string
	for range maxMetadataKeys + 1 {
		many = append(many, `{"usage":"signing","keyvalue":{"value":"`+b64+`"}}`)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"HTML login page", `<html><body>Sign in</body></html>`, "not valid JSON"},
		{"empty", ``, "not valid JSON"},
		{"truncated", `{"keys":[{"usage":"signing","keyvalue":{"value":"` + b64[:40], "not valid JSON"},
		{"no keys", `{"realm":"r","serviceName":"s"}`, `no "keys"`},
		{"keys not an array", `{"keys":{"usage":"signing"}}`, "unexpected JSON shape"},
		{"array document", `[1,2]`, "unexpected JSON shape"},
		{"object where a string belongs", `{"realm":{"a":1},"keys":[]}`, "unexpected JSON shape"},
		{"value not base64", `{"keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"%%%"}}]}`, "not a certificate"},
		{"value not a certificate", `{"keys":[{"usage":"signing","keyvalue":{"type":"x509Certificate","value":"` + base64.StdEncoding.EncodeToString([]byte("hello")) + `"}}]}`, "not a certificate"},
		{"key without value", `{"keys":[{"usage":"signing","keyinfo":{"x5t":"x"}}]}`, "no keyvalue.value"},
		{"empty key", `{"keys":[{}]}`, "neither usage"},
		{"too many keys", `{"keys":[` + strings.Join(many, ",") + `]}`, "keys"},
		{"odd UTF-16", "\xFF\xFE{\x00\"", "odd number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, err := ParseMetadata([]byte(tc.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", md)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	if _, err := ParseMetadata([]byte(`<html>`)); !errors.Is(err, ErrNotMetadata) {
		t.Errorf("HTML is not ErrNotMetadata: %v", err)
	}
}

func ptr(b bool) *bool { return &b }

func deref(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

func stdPadded(x5t string) string {
	raw, err := base64.RawURLEncoding.DecodeString(x5t)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func utf16Bytes(s string, le bool) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFE, 0xFF}
	if le {
		out = []byte{0xFF, 0xFE}
	}
	for _, v := range u {
		if le {
			out = append(out, byte(v), byte(v>>8))
		} else {
			out = append(out, byte(v>>8), byte(v))
		}
	}
	return out
}
