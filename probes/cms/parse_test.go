package cms

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseExamplesOfBothShells(t *testing.T) {
	for _, tc := range []struct {
		file, source, shell string
		ts                  time.Time
	}{
		{"sfb-ps7.json", "sfb-fe01.contoso.com", ShellSfB, time.Date(2023, 11, 14, 22, 13, 20, 123456700, time.UTC)},
		{"sfb-ps51.json", "sfb-fe02.contoso.com", ShellSfB, time.UnixMilli(1700000000000).UTC()},
		{"exchange-ps7.json", "exchange-ex01.contoso.com", ShellExchange, time.Date(2023, 11, 14, 22, 15, 0, 0, time.UTC)},
		{"exchange-ps51.json", "exchange-ex02.contoso.com", ShellExchange, time.UnixMilli(1700000100000).UTC()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := Parse(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if src, _ := s.Source(); src != tc.source || string(s.Shell) != tc.shell || !s.Timestamp.Equal(tc.ts) {
				t.Fatalf("source %q shell %q ts %v", src, s.Shell, s.Timestamp)
			}
		})
	}
}

func TestParseSfBDetails(t *testing.T) {
	s51, err := Parse(readTestdata(t, "sfb-ps51.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := s51.SkypeForBusiness
	// One-element arrays unrolled by 5.1 come back as lists of one.
	if len(d.HostingProviders) != 1 || d.HostingProviders[0].ProxyFqdn != "exap.um.outlook.com" || !d.HostingProviders[0].EnabledSharedAddressSpace.Value {
		t.Errorf("hosting providers: %+v", d.HostingProviders)
	}
	// "True" as a string, lower-case property names.
	if len(d.AccessEdgeConfiguration) != 1 || !d.AccessEdgeConfiguration[0].AllowFederatedUsers.Known || !d.AccessEdgeConfiguration[0].AllowFederatedUsers.Value {
		t.Errorf("access edge: %+v", d.AccessEdgeConfiguration)
	}
	// An empty list is "none", not "unknown".
	if d.PartnerApplications == nil || len(d.PartnerApplications) != 0 {
		t.Errorf("partner applications: %#v", d.PartnerApplications)
	}
	if len(d.ReplicationStatus) != 2 || d.ReplicationStatus[1].UpToDate.Value || !d.ReplicationStatus[1].LastStatusReport.IsZero() ||
		!d.ReplicationStatus[1].LastUpdateCreation.Equal(time.UnixMilli(1699998200000)) {
		t.Errorf("replicas: %+v", d.ReplicationStatus)
	}
	if d.TrustedApplications[0].Port != "5199" {
		t.Errorf("a number as text: %q", d.TrustedApplications[0].Port)
	}

	ex, err := Parse(readTestdata(t, "exchange-ps7.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Exchange.AuthServers != nil || len(ex.Errors) != 1 || ex.Errors[0].Cmdlet != "Get-AuthServer" {
		t.Errorf("a failed cmdlet: %+v %+v", ex.Exchange.AuthServers, ex.Errors)
	}
	if len(ex.Exchange.AuthConfig) != 1 || !ex.Exchange.AuthConfig[0].NextCertificateEffectiveDate.Equal(time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("auth config: %+v", ex.Exchange.AuthConfig)
	}
}

func utf16Bytes(s string, bigEndian bool) []byte {
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestParseEncodings(t *testing.T) {
	text := string(readTestdata(t, "exchange-ps7.json"))
	for name, b := range map[string][]byte{
		"utf-8":     []byte(text),
		"utf-8 bom": append([]byte{0xEF, 0xBB, 0xBF}, text...),
		"utf-16le":  utf16Bytes(text, false),
		"utf-16be":  utf16Bytes(text, true),
	} {
		if s, err := Parse(b); err != nil || s.ComputerName != "EX01" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.UnixMilli(1700000000000).UTC()
	for _, s := range []string{"/Date(1700000000000)/", "/Date(1700000000000+0100)/", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20+01:00", "2023-11-14T22:13:20.0000000", "2023-11-14T22:13:20"} {
		if got, err := ParseTime(s); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"/Date(abc)/", "14.11.2023", "/Date(1700000000000)"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("%s parsed", s)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := string(readTestdata(t, "sfb-ps7.json"))
	for name, tc := range map[string]struct{ body, want string }{
		"empty":          {"", "not a JSON object"},
		"html":           {"<html>sign in</html>", "not a JSON object"},
		"array":          {"[]", "not a JSON object"},
		"truncated":      {good[:200], "not a valid snapshot"},
		"odd utf-16":     {"\xff\xfe{\x00x", "odd number"},
		"version 2":      {strings.Replace(good, `"SnapshotVersion": "1"`, `"SnapshotVersion": "2"`, 1), "SnapshotVersion"},
		"no timestamp":   {strings.Replace(good, `"Timestamp": "2023-11-14T22:13:20.1234567Z",`, ``, 1), "Timestamp"},
		"bad date":       {strings.Replace(good, `"2023-11-14T22:13:20.1234567Z"`, `"yesterday"`, 1), "ISO 8601"},
		"unknown shell":  {strings.Replace(good, `"Shell": "SkypeForBusiness"`, `"Shell": "Teams"`, 1), "Shell"},
		"no section":     {strings.Replace(good, `"SkypeForBusiness": {`, `"Other": {`, 1), "section is missing"},
		"no computer":    {strings.NewReplacer(`"ComputerName": "FE01"`, `"ComputerName": "../.."`, `"ComputerFqdn": "fe01.contoso.com"`, `"ComputerFqdn": ""`).Replace(good), "ComputerName"},
		"bool as object": {strings.Replace(good, `"UpToDate": true`, `"UpToDate": {}`, 1), "not a valid snapshot"},
	} {
		if _, err := Parse([]byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	if _, err := Parse(make([]byte, MaxSnapshotBytes+1)); err == nil {
		t.Error("oversize parsed")
	}
}

func TestSourceIsASafeName(t *testing.T) {
	for in, want := range map[string]string{
		"FE01.Contoso.COM":       "sfb-fe01.contoso.com",
		"../../etc/passwd":       "sfb-etc-passwd",
		`C:\Windows\x`:           "sfb-c-windows-x",
		"fe01\x00.contoso.com":   "sfb-fe01-.contoso.com",
		"a..b":                   "sfb-a.b",
		strings.Repeat("a", 300): "sfb-" + strings.Repeat("a", maxSourceLen-4),
		"/abs/path":              "sfb-abs-path",
	} {
		s := &Snapshot{ComputerFqdn: Text(in), Shell: ShellSfB}
		got, err := s.Source()
		if err != nil || got != want || !validFileName(got+".json") {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}
