package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sfbex/sfbex_exporter/internal/wintext"
)

// Metadata is an auth metadata document (domain-facts §3): what Exchange
// serves at /autodiscover/metadata/json/1, Skype for Business at
// /metadata/json/1 and Microsoft 365 ACS at /<tenant>/metadata/json/1.
type Metadata struct {
	ID               string   `json:"id,omitempty"`
	Version          string   `json:"version,omitempty"`
	Name             string   `json:"name,omitempty"`
	Realm            string   `json:"realm"`
	ServiceName      string   `json:"service_name"`
	Issuer           string   `json:"issuer"`
	AllowedAudiences []string `json:"allowed_audiences,omitempty"`
	// Keys are the published certificates, in document order.
	Keys []MetadataKey `json:"keys"`
	// Skipped counts keys that carry no X.509 certificate (another key type).
	Skipped int `json:"skipped,omitempty"`
}

// MetadataKey is one published key with its certificate.
type MetadataKey struct {
	// Usage as published ("signing", "Signing", or "" when absent).
	Usage string `json:"usage"`
	// X5T is keyinfo.x5t as published; "" when keyinfo is absent.
	X5T  string `json:"x5t,omitempty"`
	Cert Cert   `json:"cert"`
}

// Signing reports whether the key signs tokens. A key without a usage is
// taken as signing: that is the only usage the documents define.
func (k *MetadataKey) Signing() bool {
	return k.Usage == "" || strings.EqualFold(k.Usage, "signing")
}

// X5TMatches compares the published x5t with the certificate's SHA-1 hash;
// nil when nothing was published. Some servers pad the base64url value or
// use the standard alphabet, so both compare equal.
func (k *MetadataKey) X5TMatches() *bool {
	if k.X5T == "" {
		return nil
	}
	pub := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimSpace(k.X5T)), "=")
	ok := pub == k.Cert.X5T
	return &ok
}

// Limits of what ParseMetadata accepts; real documents hold two or three keys.
const (
	maxMetadataKeys = 64
	maxCertBytes    = 64 << 10
)

// ErrNotMetadata says the body is not an auth metadata document at all (an
// HTML error page, a login form, another JSON document).
var ErrNotMetadata = errors.New("not an auth metadata document")

// ParseMetadata reads an auth metadata document tolerantly: keys in any
// case (keyvalue/keyValue, keyinfo/keyInfo), usage and key type in any case,
// keyinfo absent, a UTF-8 or UTF-16 byte order mark, numbers where strings
// are expected, certificate values in base64 or base64url, padded or not,
// with or without PEM armour and line breaks.
//
// It fails when the body is not a JSON object with a "keys" array, or when
// a key that claims to be an X.509 certificate does not hold one: a
// document half understood must not be judged (the prober keeps the last
// good one).
func ParseMetadata(body []byte) (*Metadata, error) {
	body, err := wintext.ToUTF8(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotMetadata, err)
	}
	var raw struct {
		ID               looseString   `json:"id"`
		Version          looseString   `json:"version"`
		Name             looseString   `json:"name"`
		Realm            looseString   `json:"realm"`
		ServiceName      looseString   `json:"serviceName"`
		Issuer           looseString   `json:"issuer"`
		AllowedAudiences looseStrings  `json:"allowedAudiences"`
		Keys             *[]rawKeyJSON `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		var se *shapeError
		if errors.As(err, &te) || errors.As(err, &se) {
			return nil, fmt.Errorf("%w: unexpected JSON shape: %v", ErrNotMetadata, err)
		}
		return nil, fmt.Errorf("%w: not valid JSON: %v (starts with %q)", ErrNotMetadata, err, excerpt(body))
	}
	if raw.Keys == nil {
		return nil, fmt.Errorf("%w: the JSON object has no \"keys\" array", ErrNotMetadata)
	}
	if len(*raw.Keys) > maxMetadataKeys {
		return nil, fmt.Errorf("%w: %d keys (real documents hold a few)", ErrNotMetadata, len(*raw.Keys))
	}
	md := &Metadata{
		ID: string(raw.ID), Version: string(raw.Version), Name: string(raw.Name), Realm: string(raw.Realm),
		ServiceName: string(raw.ServiceName), Issuer: string(raw.Issuer), AllowedAudiences: raw.AllowedAudiences,
	}
	for i, k := range *raw.Keys {
		if k.KeyValue == nil || string(k.KeyValue.Value) == "" {
			if k.KeyValue == nil && k.KeyInfo == nil && k.Usage == "" {
				return nil, fmt.Errorf("%w: key %d has neither usage, keyinfo nor keyvalue", ErrNotMetadata, i+1)
			}
			return nil, fmt.Errorf("key %d (usage %q) has no keyvalue.value: the document is incomplete", i+1, string(k.Usage))
		}
		if t := string(k.KeyValue.Type); t != "" && !strings.EqualFold(t, "x509Certificate") {
			md.Skipped++
			continue
		}
		der, err := decodeCertValue(string(k.KeyValue.Value))
		if err != nil {
			return nil, fmt.Errorf("key %d (usage %q): keyvalue.value is not a certificate: %v", i+1, string(k.Usage), err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("key %d (usage %q): keyvalue.value is not a certificate: %v", i+1, string(k.Usage), err)
		}
		key := MetadataKey{Usage: string(k.Usage), Cert: Describe(c)}
		if k.KeyInfo != nil {
			key.X5T = string(k.KeyInfo.X5T)
		}
		md.Keys = append(md.Keys, key)
	}
	return md, nil
}

type rawKeyJSON struct {
	Usage   looseString `json:"usage"`
	KeyInfo *struct {
		X5T looseString `json:"x5t"`
	} `json:"keyinfo"`
	KeyValue *struct {
		Type  looseString `json:"type"`
		Value looseString `json:"value"`
	} `json:"keyvalue"`
}

// looseString accepts a JSON string, number, boolean or null.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case b[0] == '{' || b[0] == '[':
		return &shapeError{got: map[byte]string{'{': "an object", '[': "an array"}[b[0]]}
	default:
		*s = looseString(b) // number or boolean, as written
	}
	return nil
}

// looseStrings accepts an array of strings or a single string.
type looseStrings []string

func (s *looseStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var vs []looseString
		if err := json.Unmarshal(b, &vs); err != nil {
			return err
		}
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			out = append(out, string(v))
		}
		*s = out
		return nil
	}
	var v looseString
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	if v != "" {
		*s = []string{string(v)}
	}
	return nil
}

// shapeError: a JSON object or array where the document has a string.
type shapeError struct{ got string }

func (e *shapeError) Error() string { return "found " + e.got + " where a string belongs" }

// decodeCertValue turns a published certificate value into DER.
func decodeCertValue(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(v))
		if blk == nil {
			return nil, errors.New("broken PEM armour")
		}
		return blk.Bytes, nil
	}
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, v)
	if base64.StdEncoding.DecodedLen(len(v)) > maxCertBytes {
		return nil, fmt.Errorf("%d characters is too long for a certificate", len(v))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if der, err := enc.DecodeString(v); err == nil {
			return der, nil
		}
	}
	return nil, errors.New("not base64")
}

// excerpt is the start of a body, to show what came back instead of JSON.
func excerpt(b []byte) string {
	const n = 60
	if len(b) > n {
		b = b[:n]
	}
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1]
	}
	return strings.TrimSpace(string(b))
}
