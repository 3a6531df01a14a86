package cms

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The examples are what scripts/Export-SfbexSnapshot.ps1 1.2.0 writes
// (docs/cms-snapshots.md says how they were made): PowerShell 7 and
// Windows PowerShell 5.1, and 5.1 on a Thai server.
func TestParseExamplesOfBothShells(t *testing.T) {
	for _, tc := range []struct {
		file, source, shell string
		ts                  time.Time
	}{
		{"sfb-ps7.json", "sfb-fe01.contoso.com", ShellSfB, time.Date(2023, 11, 14, 22, 13, 20, 123456700, time.UTC)},
		{"sfb-ps51.json", "sfb-fe02.contoso.com", ShellSfB, time.UnixMilli(1700000000000).UTC()},
		{"exchange-ps7.json", "exchange-ex01.contoso.com", ShellExchange, time.Date(2023, 11, 14, 22, 15, 0, 551204300, time.UTC)},
		{"exchange-ps51.json", "exchange-ex02.contoso.com", ShellExchange, time.UnixMilli(1700000100000).UTC()},
		{"sfb-ps51-th-TH.json", "sfb-fe03.contoso.co.th", ShellSfB, time.Date(2026, 3, 2, 4, 5, 6, 789123400, time.UTC)},
		{"exchange-online-ps7.json", "exchange-ex03.contoso.com", ShellExchange, time.Date(2026, 12, 1, 8, 0, 0, 123456700, time.UTC)},
		{"exchange-online-ps51.json", "exchange-ex04.contoso.com", ShellExchange, time.Date(2026, 12, 1, 8, 5, 0, 0, time.UTC)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := Parse(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if src, _ := s.Source(); src != tc.source || string(s.Shell) != tc.shell || !s.Timestamp.Equal(tc.ts) {
				t.Fatalf("source %q shell %q ts %v", src, s.Shell, s.Timestamp)
			}
			if len(s.FieldErrors) != 0 {
				t.Fatalf("field errors: %v", s.FieldErrors)
			}
		})
	}
}

// allExamples are the testdata examples of the script's output.
var allExamples = []string{"sfb-ps7.json", "exchange-ps7.json", "sfb-ps51.json", "exchange-ps51.json", "sfb-ps51-th-TH.json", "exchange-online-ps7.json", "exchange-online-ps51.json"}

// isoRoundTrip is DateTime.ToString("o") of a UTC time.
var isoRoundTrip = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$`)

// TestExamplesAreWhatTheScriptWrites holds the examples to the bytes the
// script writes: [System.IO.File]::WriteAllText with UTF-8 without a BOM,
// ConvertTo-Json's CRLF line ends and no final newline, 5.1's two spaces
// after a colon and \u0027 for an apostrophe, 7's two-space indent, and
// every date as invariant round-trip text.
func TestExamplesAreWhatTheScriptWrites(t *testing.T) {
	for _, name := range allExamples {
		b := readTestdata(t, name)
		ps51 := strings.Contains(name, "ps51")
		switch {
		case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) || !utf8.Valid(b):
			t.Errorf("%s: not UTF-8 without a BOM", name)
		case bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) || bytes.HasSuffix(b, []byte("\n")):
			t.Errorf("%s: not CRLF line ends without a final newline", name)
		case ps51 && (!bytes.Contains(b, []byte(`"Shell":  "`)) || bytes.ContainsAny(b, "'<>&")):
			t.Errorf("%s: not Windows PowerShell 5.1's layout and escaping", name)
		case !ps51 && !bytes.Contains(b, []byte("\r\n  \"Shell\": \"")):
			t.Errorf("%s: not PowerShell 7's layout", name)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dates := 0
		var walk func(k string, v any)
		walk = func(k string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					walk(k, x)
				}
			case []any:
				for _, x := range v {
					walk(k, x)
				}
			case string:
				if k == "Timestamp" || k == "NotAfter" || strings.HasSuffix(k, "Date") || strings.HasPrefix(k, "Last") {
					dates++
					if !isoRoundTrip.MatchString(v) {
						t.Errorf("%s: %s %q is not invariant round-trip UTC", name, k, v)
					}
				}
			}
		}
		walk("", m)
		if dates < 2 {
			t.Errorf("%s: only %d dates", name, dates)
		}
	}
}

func TestParseSfBDetails(t *testing.T) {
	s51, err := Parse(readTestdata(t, "sfb-ps51.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := s51.SkypeForBusiness
	if len(d.HostingProviders) != 1 || d.HostingProviders[0].ProxyFqdn != "exap.um.outlook.com" || !d.HostingProviders[0].EnabledSharedAddressSpace.Value {
		t.Errorf("hosting providers: %+v", d.HostingProviders)
	}
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
	// A failed cmdlet: its section is null, the error names it, and 5.1's
	// \u0027 is an apostrophe again.
	if d.OAuthTokenIssuerCertificates != nil || len(s51.Errors) != 2 || s51.Errors[0].Section != "SkypeForBusiness.OAuthTokenIssuerCertificates" ||
		!strings.Contains(string(s51.Errors[0].Message), `'LocalMachine\My'`) {
		t.Errorf("a failed cmdlet: %+v %+v", d.OAuthTokenIssuerCertificates, s51.Errors)
	}
	// The Teams part could not connect: recorded, its section null.
	if d.TenantFederationConfiguration != nil || s51.Errors[1].Section != "SkypeForBusiness.TenantFederationConfiguration" || s51.Errors[1].Cmdlet != "Connect-MicrosoftTeams" {
		t.Errorf("a failed connect: %+v %+v", d.TenantFederationConfiguration, s51.Errors)
	}
	// Get-CsServerVersion's line as Microsoft's own troubleshooting tool
	// shows it; Get-CsServerPatchVersion's rows with their ComponentName
	// and Version.
	if len(d.ServerVersion) != 1 || d.ServerVersion[0].Product != "Skype for Business Server 2019 (7.0.2046.0): Volume license key installed." ||
		len(d.PatchVersions) != 3 || d.PatchVersions[0].ComponentName != "Skype for Business Server 2019, Core Components" || d.PatchVersions[0].Version != "7.0.2046.530" {
		t.Errorf("versions: %+v %+v", d.ServerVersion, d.PatchVersions)
	}
	s7, err := Parse(readTestdata(t, "sfb-ps7.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A staged roll and its EffectiveDate; the Teams tenant's federation.
	d7 := s7.SkypeForBusiness
	if c := d7.OAuthTokenIssuerCertificates; len(c) != 2 || !c[0].EffectiveDate.IsZero() || !c[1].EffectiveDate.Equal(time.Date(2025, 6, 28, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("rolled certificate: %+v", c)
	}
	if f := d7.TenantFederationConfiguration; len(f) != 1 || !f[0].SharedSipAddressSpace.Known || !f[0].SharedSipAddressSpace.Value {
		t.Errorf("tenant federation: %+v", f)
	}

	ex, err := Parse(readTestdata(t, "exchange-ps7.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Exchange.AuthServers != nil || len(ex.Errors) != 1 || ex.Errors[0].Cmdlet != "Get-AuthServer" || ex.Errors[0].Section != "Exchange.AuthServers" {
		t.Errorf("a failed cmdlet: %+v %+v", ex.Exchange.AuthServers, ex.Errors)
	}
	if len(ex.Exchange.AuthConfig) != 1 || !ex.Exchange.AuthConfig[0].NextCertificateEffectiveDate.Equal(time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("auth config: %+v", ex.Exchange.AuthConfig)
	}
	th, err := Parse(readTestdata(t, "sfb-ps51-th-TH.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The Thai server's dates are Gregorian: the script formats them in the invariant culture.
	if th.Culture != "th-TH" || th.SkypeForBusiness.OAuthTokenIssuerCertificates[0].NotAfter.Year() != 2027 ||
		!th.SkypeForBusiness.ReplicationStatus[0].LastUpdateCreation.Equal(time.Date(2026, 3, 2, 3, 58, 11, 27000000, time.UTC)) {
		t.Errorf("th-TH: %+v", th.SkypeForBusiness)
	}
	// No Teams part configured: absent, and not an error.
	if th.SkypeForBusiness.TenantFederationConfiguration != nil || len(th.Errors) != 0 {
		t.Errorf("th-TH without the Teams part: %+v", th.Errors)
	}
}

// TestParseToleratesHandMadeSnapshots: what ConvertTo-Json of raw cmdlet
// output gives under 5.1 (not what the script writes): lower-case names,
// "True", one-element arrays unrolled, \/Date()\/ and Get-Date's wrapped
// date, saved as UTF-16LE by Out-File.
func TestParseToleratesHandMadeSnapshots(t *testing.T) {
	text := "{\r\n    \"snapshotVersion\":  \"1\",\r\n    \"timestamp\":  {\r\n                      \"value\":  \"\\/Date(1700000100000)\\/\",\r\n" +
		"                      \"DisplayHint\":  2,\r\n                      \"DateTime\":  \"Tuesday, November 14, 2023 10:15:00 PM\"\r\n                  },\r\n" +
		"    \"computerName\":  \"FE09\",\r\n    \"shell\":  \"SkypeForBusiness\",\r\n    \"skypeForBusiness\":  {\r\n" +
		"                             \"accessEdgeConfiguration\":  {\r\n                                                           \"Identity\":  \"Global\",\r\n" +
		"                                                           \"AllowFederatedUsers\":  \"True\"\r\n                                                       },\r\n" +
		"                             \"replicationStatus\":  {\r\n                                                     \"ReplicaFqdn\":  \"fe09.contoso.com\",\r\n" +
		"                                                     \"UpToDate\":  true,\r\n                                                     \"LastUpdateCreation\":  \"\\/Date(1699999940000+0100)\\/\"\r\n" +
		"                                                 }\r\n                         }\r\n}"
	s, err := Parse(utf16Bytes(text, false))
	if err != nil {
		t.Fatal(err)
	}
	d := s.SkypeForBusiness
	if !s.Timestamp.Equal(time.UnixMilli(1700000100000)) || len(d.AccessEdgeConfiguration) != 1 || !d.AccessEdgeConfiguration[0].AllowFederatedUsers.Value ||
		len(d.ReplicationStatus) != 1 || !d.ReplicationStatus[0].LastUpdateCreation.Equal(time.UnixMilli(1699999940000)) {
		t.Fatalf("%+v %+v", s, d)
	}
	// The sections it lacks are said to be missing, not taken as empty.
	var missing []string
	for _, e := range s.Errors {
		missing = append(missing, string(e.Section))
	}
	if !slices.Contains(missing, "SkypeForBusiness.HostingProviders") || slices.Contains(missing, "SkypeForBusiness.AccessEdgeConfiguration") || d.HostingProviders != nil {
		t.Fatalf("missing sections: %v", missing)
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
	for _, s := range []string{"/Date(1700000000000)/", "/Date(1700000000000+0100)/", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20+01:00", "2023-11-14T22:13:20.0000000Z"} {
		if got, err := ParseTime(s); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	// Dates in a server's culture, each refused with what gave it away.
	for s, want := range map[string]string{
		"/Date(abc)/":                  "not an ISO 8601 date",
		"14.11.2023":                   "not an ISO 8601 date",
		"/Date(1700000000000)":         "not an ISO 8601 date",
		"14.11.2023 22:13:20":          "formatted in the server's culture",
		"11/14/2023 10:13:20 PM":       "formatted in the server's culture",
		"2023-11-14T22.13.20.0000000Z": `with "."`,
		"2023-11-14T22:13:20.0000000":  "no time zone",
		"2023-11-14 22:13:20":          "no time zone",
	} {
		if _, err := ParseTime(s); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "invariant culture") {
			t.Errorf("%s: %v, want an error with %q", s, err, want)
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
		"bad date":       {strings.Replace(good, `"2023-11-14T22:13:20.1234567Z"`, `"yesterday"`, 1), "field Timestamp"},
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
