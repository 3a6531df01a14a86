package cms

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
)

// These tests cover the fixes of scripts/Export-SfbexSnapshot.ps1 1.1.0 on
// snapshots shaped exactly as it writes them (the testdata examples), and
// what the agent makes of the shapes 1.0.0 wrote on servers whose culture
// is not English.

func probeFiles(t *testing.T, now time.Time, files map[string]string) *Result {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res.(*Result)
}

func findingWith(fs []probes.Finding, subject string) *probes.Finding {
	for i := range fs {
		if strings.Contains(fs[i].Subject, subject) {
			return &fs[i]
		}
	}
	return nil
}

func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q is not in the example", old)
	}
	return strings.Replace(s, old, new, 1)
}

var isoDateInText = regexp.MustCompile(`"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{7})Z"`)

// TestDatesInTheServersCulture: script 1.0.0 formatted dates with a custom
// format in the server's culture. A Finnish server's time separator and a
// Thai server's Buddhist year are refused with a clear error naming the
// Timestamp; script 1.1.0's invariant dates from the same Thai server
// parse (TestParseExamplesOfBothShells, sfb-ps51-th-TH.json).
func TestDatesInTheServersCulture(t *testing.T) {
	th := string(readTestdata(t, "sfb-ps51-th-TH.json"))
	fi := isoDateInText.ReplaceAllString(th, `"${1}-${2}-${3}T${4}.${5}.${6}.${7}Z"`)
	if _, err := Parse([]byte(fi)); err == nil || !strings.Contains(err.Error(), "field Timestamp") || !strings.Contains(err.Error(), `with "."`) {
		t.Errorf("fi-FI time separators: %v", err)
	}
	buddhist := isoDateInText.ReplaceAllStringFunc(th, func(m string) string { return `"2569` + m[5:] })
	if _, err := Parse([]byte(buddhist)); err == nil || !strings.Contains(err.Error(), "Thai Buddhist") || !strings.Contains(err.Error(), "th-TH") ||
		!strings.Contains(err.Error(), "invariant culture") {
		t.Errorf("th-TH Buddhist years: %v", err)
	}
}

// TestOneBadDateLosesNothingElse: a date the agent cannot read counts as
// unknown and is reported with its field; the rest of the snapshot is
// used, and no check is judged on the missing date.
func TestOneBadDateLosesNothingElse(t *testing.T) {
	sfb := mustReplace(t, string(readTestdata(t, "sfb-ps51.json")), `"LastUpdateCreation":  "2023-11-14T21:43:20.0000000Z"`, `"LastUpdateCreation":  "14.11.2023 21.43.20"`)
	s, err := Parse([]byte(sfb))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.FieldErrors) != 1 || s.FieldErrors[0].Field != "SkypeForBusiness.ReplicationStatus[1].LastUpdateCreation" || !strings.Contains(s.FieldErrors[0].Error, "14.11.2023 21.43.20") {
		t.Fatalf("field errors: %+v", s.FieldErrors)
	}
	if len(s.SkypeForBusiness.HostingProviders) != 1 || len(s.SkypeForBusiness.ReplicationStatus) != 2 || !s.SkypeForBusiness.ReplicationStatus[0].LastUpdateCreation.Equal(time.UnixMilli(1699999940000)) {
		t.Fatalf("the rest is lost: %+v", s.SkypeForBusiness)
	}

	// Exchange's next Auth certificate date unreadable: the staging check
	// is left out, not failed as "no next certificate staged".
	ex := mustReplace(t, string(readTestdata(t, "exchange-ps7.json")), `"NextCertificateEffectiveDate": "2023-12-01T00:00:00.0000000Z"`, `"NextCertificateEffectiveDate": "01.12.2023 00.00.00"`)
	r := probeFiles(t, testNow, map[string]string{"fe.json": sfb, "ex.json": ex})
	m := checkStates(r)
	if _, ok := m["exchange/auth_next_certificate_staged"]; ok {
		t.Errorf("judged on an unreadable date: %v", m)
	}
	if _, ok := m["exchange/partner_application_sfb"]; !ok || len(r.Sources) != 2 {
		t.Errorf("the rest of the Exchange snapshot is lost: %v %v", m, r.Sources)
	}
	for _, src := range []string{"sfb-fe02.contoso.com", "exchange-ex01.contoso.com"} {
		f := findingWith(r.Findings(), "CMS snapshot "+src+" dates")
		if f == nil || !strings.Contains(f.Problem, "unknown") || !strings.Contains(f.Fix, "invariant culture") {
			t.Errorf("%s: no finding for the unreadable date: %+v", src, r.Findings())
		}
	}
	if f := findingWith(r.Findings(), "exchange-ex01.contoso.com dates"); f == nil || !strings.Contains(f.Problem, "Exchange.AuthConfig[0].NextCertificateEffectiveDate") {
		t.Errorf("the finding does not name the field: %+v", f)
	}
	for _, rep := range r.Replicas {
		if rep.Fqdn == "edge01.contoso.com" && (rep.LastUpdateCreation != nil || rep.UpToDate) {
			t.Errorf("edge01: %+v", rep)
		}
	}
}

// TestFailedSectionIsNotAnEmptyOne: the script records a cmdlet that
// failed (with -ErrorAction Stop, also the Exchange proxy functions) and
// the section it leaves out. The agent reports "section ... not exported"
// and leaves the checks on it out, even if the section is present and
// empty; an empty section with no error means "none" and is judged.
func TestFailedSectionIsNotAnEmptyOne(t *testing.T) {
	good := string(readTestdata(t, "exchange-ps7.json"))
	start, end := strings.Index(good, `"PartnerApplications": [`), strings.Index(good, `"AuthServers": null`)
	if start < 0 || end < start {
		t.Fatal("exchange-ps7.json changed")
	}
	empty := good[:start] + "\"PartnerApplications\": [],\r\n    " + good[end:]
	denied := `"Cmdlet": "Get-PartnerApplication",` + "\r\n" + `      "Message": "Access denied: the user 'CONTOSO\\svc-sfbex$' isn't assigned any management roles."` + "\r\n    },\r\n    {\r\n      "

	for name, tc := range map[string]struct {
		body     string
		judged   bool
		finding  string
		fixNames string
	}{
		"failed, with its section": {mustReplace(t, empty, `"Section": "Exchange.AuthServers",`, `"Section": "Exchange.PartnerApplications",`+"\r\n      "+denied+`"Section": "Exchange.AuthServers",`),
			false, "section Exchange.PartnerApplications (Get-PartnerApplication) not exported: Access denied", "Get-PartnerApplication"},
		"failed, script 1.0.0 (cmdlet only)": {mustReplace(t, empty, `"Section": "Exchange.AuthServers",`, denied+`"Section": "Exchange.AuthServers",`),
			false, "section Exchange.PartnerApplications (Get-PartnerApplication) not exported", "Get-PartnerApplication"},
		"empty": {empty, true, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := probeFiles(t, testNow, map[string]string{"ex.json": tc.body})
			pass, judged := checkStates(r)["exchange/partner_application_sfb"]
			if judged != tc.judged || pass {
				t.Fatalf("partner_application_sfb judged %v pass %v, want judged %v", judged, pass, tc.judged)
			}
			f := findingWith(r.Findings(), "section Exchange.PartnerApplications")
			if tc.finding == "" {
				if f != nil {
					t.Fatalf("an empty section reported as not exported: %+v", f)
				}
				return
			}
			if f == nil || !strings.Contains(f.Problem, tc.finding) || !strings.Contains(f.Fix, tc.fixNames) {
				t.Fatalf("want a finding with %q: %+v", tc.finding, r.Findings())
			}
		})
	}
}

// TestFailedNameLookupIsExplained: script 1.1.0 records a failed DNS
// lookup of the server's own name and goes on; the agent explains it as a
// DNS problem, not a missing right.
func TestFailedNameLookupIsExplained(t *testing.T) {
	ex := mustReplace(t, string(readTestdata(t, "exchange-ps7.json")), `"Errors": [`, `"Errors": [
    {
      "Section": "ComputerFqdn",
      "Cmdlet": "[System.Net.Dns]::GetHostEntry",
      "Message": "No such host is known"
    },`)
	r := probeFiles(t, testNow, map[string]string{"ex.json": ex})
	f := findingWith(r.Findings(), "name lookup")
	if f == nil || !strings.Contains(f.Problem, "No such host is known") || !strings.Contains(f.Fix, "Resolve-DnsName") || strings.Contains(f.Fix, "RTCUniversalReadOnlyAdmins") {
		t.Fatalf("%+v", r.Findings())
	}
	if len(r.Sources) != 1 || r.Sources[0].Name != "exchange-ex01.contoso.com" {
		t.Fatalf("sources: %+v", r.Sources)
	}
}

// TestSourceSurvivesANonAtomicReplace: where the share cannot replace a
// file in one step, the script deletes the old file before it renames the
// new one. The agent keeps the source for the one run that may fall into
// that gap, and drops it when the file stays gone.
func TestSourceSurvivesANonAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps7.json", "exchange-ps7.json")
	now := testNow
	p := newTestProber(t, dir, hybridOnPrem, &now)
	sources := func() (names []string, err error) {
		res, err := p.Probe(context.Background())
		if res == nil {
			return nil, err
		}
		for _, s := range res.(*Result).Sources {
			if s.Stale {
				t.Errorf("%s marked stale: %s", s.Name, s.Error)
			}
			names = append(names, s.Name)
		}
		return names, err
	}
	if got, err := sources(); len(got) != 2 || err != nil {
		t.Fatalf("%v %v", got, err)
	}
	if err := os.Remove(filepath.Join(dir, "sfb-ps7.json")); err != nil {
		t.Fatal(err)
	}
	if got, err := sources(); len(got) != 2 || err != nil {
		t.Fatalf("dropped during the replace: %v %v", got, err)
	}
	copyTestdata(t, dir, "sfb-ps7.json")
	if got, err := sources(); len(got) != 2 || err != nil {
		t.Fatalf("after the replace: %v %v", got, err)
	}
	if err := os.Remove(filepath.Join(dir, "sfb-ps7.json")); err != nil {
		t.Fatal(err)
	}
	sources()
	if got, err := sources(); len(got) != 1 || got[0] != "exchange-ex01.contoso.com" || err != nil {
		t.Fatalf("a file gone for two runs is still used: %v %v", got, err)
	}
}
