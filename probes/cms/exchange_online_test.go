package cms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Microsoft's documented forms, verbatim (Learn "Control access to EWS in
// Exchange"; "deploy dedicated Exchange hybrid app" and CSS-Exchange's
// ConfigureExchangeHybridApplication.ps1).
const (
	// Set-OrganizationConfig -EwsAllowedAppIDs "11111111-2222-3333-4444-555555555555,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	learnAllowedAppIDs = "11111111-2222-3333-4444-555555555555,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	// Set-OrganizationConfig -EwsApplicationAccessPolicy:EnforceAllowList -EwsAllowList:"OWA/*"
	learnUserAgentPattern = "OWA/*"
	// "it must include 'Teams CalendarSkypeSpaces/1.0a$*+' when the Teams AppID cc15fd57-2c6c-4117-a88c-83b1d56b4bbe is allowed"
	learnTeamsUserAgent = "Teams CalendarSkypeSpaces/1.0a$*+"
	learnTeamsAppID     = "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"
	// New-SettingOverride -Name "EnableExchangeHybrid3PAppFeature" -Component "Global" -Section "ExchangeOnpremAsThirdPartyAppId" -Parameters @("Enabled=true") -Reason "Enable dedicated Exchange hybrid app feature"
	learnOverrideName       = "EnableExchangeHybrid3PAppFeature"
	learnOverrideComponent  = "Global"
	learnOverrideSection    = "ExchangeOnpremAsThirdPartyAppId"
	learnOverrideParameters = "Enabled=true"
)

var (
	exoNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	// Skype for Business Server on-premises and Exchange in a hybrid: both
	// reach Exchange Online mailboxes over EWS.
	onPremExchangeHybrid = Deployment{Lync: estate.OnPrem, Exchange: estate.Hybrid, Cloud: estate.Worldwide}
	testEWS              = EWSConfig{RequiredAppIDs: []string{"11111111-2222-3333-4444-555555555555", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
		UserAgents: []string{"OWA/15.20.8158.20"}, Shutdown: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)}
)

func probeEWS(t *testing.T, dep Deployment, ews EWSConfig, files map[string]string) *Result {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := exoNow
	p, err := NewProber(Config{Path: dir, Deployment: dep, SnapshotMaxAge: 7 * 24 * time.Hour, ReplicaStaleAfter: 10 * time.Minute,
		OAuthRenewDays: 60, EWS: ews, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res.(*Result)
}

func checkNamed(r *Result, name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Component+"/"+r.Checks[i].Check == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// TestExchangeOnlineExamples: the PowerShell 7 example (EwsEnabled True,
// Learn's allow list as one comma-joined string, EnforceAllowList with
// OWA/*, the dedicated hybrid app's override) passes every check; the 5.1
// one (EwsEnabled never set, no override, the allow list not exported)
// fails the two it can judge and leaves the allow list out.
func TestExchangeOnlineExamples(t *testing.T) {
	r := probeEWS(t, onPremExchangeHybrid, testEWS, map[string]string{
		"a.json": string(readTestdata(t, "exchange-online-ps7.json")),
	})
	for _, name := range []string{"exchange_online/ews_enabled", "exchange_online/ews_app_allowed", "exchange_online/ews_access_policy", "exchange/hybrid_dedicated_app"} {
		if c := checkNamed(r, name); c == nil || !c.Pass {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := checkNamed(r, "exchange_online/ews_enabled"); c == nil || !strings.Contains(c.Explanation, "2027-04-01 (118 days left)") {
		t.Errorf("a passing setting does not name the shutdown: %+v", c)
	}

	r = probeEWS(t, onPremExchangeHybrid, testEWS, map[string]string{"b.json": string(readTestdata(t, "exchange-online-ps51.json"))})
	m := checkStates(r)
	if pass, ok := m["exchange_online/ews_enabled"]; !ok || pass {
		t.Errorf("EwsEnabled never set: %v", m)
	}
	if _, ok := m["exchange_online/ews_app_allowed"]; ok {
		t.Errorf("judged on a section that was not exported: %v", m)
	}
	if pass, ok := m["exchange_online/ews_access_policy"]; !ok || !pass {
		t.Errorf("no user-agent policy blocks nothing: %v", m)
	}
	if pass, ok := m["exchange/hybrid_dedicated_app"]; !ok || pass {
		t.Errorf("no setting override: %v", m)
	}
	c := checkNamed(r, "exchange_online/ews_enabled")
	for _, want := range []string{"not set", "since 2026-10-01", "EWS is disabled for this user or tenant"} {
		if !strings.Contains(c.Problem, want) {
			t.Errorf("problem %q lacks %q", c.Problem, want)
		}
	}
	f := findingWith(r.Findings(), "integration check exchange_online/ews_enabled")
	if f == nil || f.Severity != probes.Critical || !strings.Contains(f.Problem, "2027-04-01") || !strings.Contains(f.Fix, "Set-OrganizationConfig -EwsEnabled $true") {
		t.Errorf("finding: %+v", f)
	}
	f = findingWith(r.Findings(), "section ExchangeOnline.EwsOperationAccessPolicy")
	if f == nil || !strings.Contains(f.Problem, "RetrieveEwsOperationAccessPolicy") || !strings.Contains(f.Fix, "Exchange.ManageAsApp") {
		t.Errorf("the failed section is not explained: %+v", f)
	}
}

// exoSnapshot is the PowerShell 7 example with its Exchange Online part
// edited.
func exoSnapshot(t *testing.T, edits ...[2]string) string {
	t.Helper()
	s := string(readTestdata(t, "exchange-online-ps7.json"))
	for _, e := range edits {
		s = mustReplace(t, s, e[0], e[1])
	}
	return s
}

func TestExchangeOnlineEWSChecks(t *testing.T) {
	const (
		enabled   = `"EwsEnabled": true`
		appIDs    = `"EwsAllowedAppIDs": [` + "\r\n" + `          "` + learnAllowedAppIDs + `"` + "\r\n" + `        ]`
		allowList = `"EwsAllowList": [` + "\r\n" + `          "OWA/*",` + "\r\n" + `          "Teams CalendarSkypeSpaces/1.0a$*+"` + "\r\n" + `        ]`
		policy    = `"EwsApplicationAccessPolicy": "EnforceAllowList"`
		blockList = `"EwsBlockList": []`
	)
	for _, tc := range []struct {
		name  string
		dep   Deployment
		ews   EWSConfig
		edits [][2]string
		want  map[string]bool // check -> pass; absent checks must be absent
		text  map[string]string
	}{
		{name: "EwsEnabled False", dep: onPremExchangeHybrid, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": false`}},
			want: map[string]bool{"ews_enabled": false, "ews_access_policy": true},
			text: map[string]string{"ews_enabled": "EwsEnabled is False"}},
		{name: "EwsEnabled as PowerShell's text", dep: onPremExchangeHybrid, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": "True"`}},
			want: map[string]bool{"ews_enabled": true, "ews_app_allowed": true, "ews_access_policy": true}},
		{name: "one ID per element, any case", dep: onPremExchangeHybrid, ews: testEWS,
			edits: [][2]string{{appIDs, `"EwsAllowedAppIDs": ["AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", " 11111111-2222-3333-4444-555555555555 "]`}},
			want:  map[string]bool{"ews_enabled": true, "ews_app_allowed": true, "ews_access_policy": true}},
		{name: "a required app missing", dep: onPremExchangeHybrid, ews: EWSConfig{RequiredAppIDs: append([]string{learnTeamsAppID}, testEWS.RequiredAppIDs...), Shutdown: testEWS.Shutdown},
			want: map[string]bool{"ews_enabled": true, "ews_app_allowed": false},
			text: map[string]string{"ews_app_allowed": learnTeamsAppID + " (it holds 2 IDs)", "ews_app_allowed fix": `-EwsAllowedAppIDs "` + learnAllowedAppIDs + "," + learnTeamsAppID + `"`}},
		{name: "a long allow list is not repeated", dep: onPremExchangeHybrid, ews: EWSConfig{RequiredAppIDs: []string{learnTeamsAppID}, Shutdown: testEWS.Shutdown},
			edits: [][2]string{{appIDs, `"EwsAllowedAppIDs": ["` + strings.Repeat("11111111-2222-3333-4444-555555555555,", 5) + strings.TrimSuffix(strings.Repeat("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee,", 3), ",") + `", ` + manyIDs(30) + `]`}},
			want:  map[string]bool{"ews_enabled": true, "ews_app_allowed": false},
			text:  map[string]string{"ews_app_allowed": "(it holds 32 IDs)", "ews_app_allowed fix": `-EwsAllowedAppIDs "<the 32 IDs already there>,` + learnTeamsAppID + `"`}},
		{name: "empty allow list", dep: onPremExchangeHybrid, ews: testEWS, edits: [][2]string{{appIDs, `"EwsAllowedAppIDs": []`}},
			want: map[string]bool{"ews_enabled": true, "ews_app_allowed": false, "ews_access_policy": true},
			text: map[string]string{"ews_app_allowed": "EWS is blocked by policy for this user or tenant"}},
		{name: "allow list not judged while EwsEnabled is unset", dep: onPremExchangeHybrid, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": null`}},
			want: map[string]bool{"ews_enabled": false, "ews_access_policy": true}},
		{name: "no required apps configured", dep: onPremExchangeHybrid, ews: EWSConfig{Shutdown: testEWS.Shutdown},
			want: map[string]bool{"ews_enabled": true}},
		{name: "user agent not in the allow list", dep: onPremExchangeHybrid, ews: EWSConfig{UserAgents: []string{"LabSfBServer/7.0"}, Shutdown: testEWS.Shutdown},
			want: map[string]bool{"ews_enabled": true, "ews_access_policy": false},
			text: map[string]string{"ews_access_policy": "EnforceAllowList does not allow LabSfBServer/7.0", "ews_access_policy fix": `-EwsAllowList @{Add="LabSfBServer/7.0"}`}},
		{name: "Teams user agent pattern", dep: onPremExchangeHybrid, ews: EWSConfig{UserAgents: []string{"Teams CalendarSkypeSpaces/1.0a$42+"}, Shutdown: testEWS.Shutdown},
			want: map[string]bool{"ews_enabled": true, "ews_access_policy": true}},
		{name: "block list blocks", dep: onPremExchangeHybrid, ews: testEWS,
			edits: [][2]string{{policy, `"EwsApplicationAccessPolicy": "EnforceBlockList"`}, {blockList, `"EwsBlockList": ["` + learnUserAgentPattern + `"]`}},
			want:  map[string]bool{"ews_enabled": true, "ews_app_allowed": true, "ews_access_policy": false},
			text:  map[string]string{"ews_access_policy": `EnforceBlockList blocks OWA/15.20.8158.20 (blocked by "OWA/*")`, "ews_access_policy fix": `-EwsBlockList @{Remove="OWA/*"}`}},
		{name: "block list without them", dep: onPremExchangeHybrid, ews: testEWS,
			edits: [][2]string{{policy, `"EwsApplicationAccessPolicy": "EnforceBlockList"`}, {blockList, `"EwsBlockList": ["Outlook-iOS/*"]`}},
			want:  map[string]bool{"ews_enabled": true, "ews_app_allowed": true, "ews_access_policy": true}},
		{name: "policy as a number", dep: onPremExchangeHybrid, ews: testEWS, edits: [][2]string{{policy, `"EwsApplicationAccessPolicy": "1"`}},
			want: map[string]bool{"ews_enabled": true, "ews_app_allowed": true}},
		// Exchange on-premises only, Skype for Business in the cloud: no
		// EWS dependency on Exchange Online, nothing judged.
		{name: "no dependency: everything on-premises", dep: hybridOnPrem, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": false`}}},
		{name: "no dependency: Teams only, Exchange on-premises", dep: Deployment{Lync: estate.TeamsOnly, Exchange: estate.OnPrem}, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": false`}}},
		{name: "Skype for Business on-premises, mailboxes online", dep: Deployment{Lync: estate.OnPrem, Exchange: estate.Online}, ews: testEWS, edits: [][2]string{{enabled, `"EwsEnabled": false`}},
			want: map[string]bool{"ews_enabled": false, "ews_access_policy": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probeEWS(t, tc.dep, tc.ews, map[string]string{"x.json": exoSnapshot(t, tc.edits...)})
			got := map[string]bool{}
			for _, c := range r.Checks {
				if c.Component == ComponentExchangeOnline {
					got[c.Check] = c.Pass
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("checks %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if p, ok := got[k]; !ok || p != v {
					t.Errorf("%s = %v (present %v), want %v", k, p, ok, v)
				}
			}
			for k, want := range tc.text {
				name, fix := strings.CutSuffix(k, " fix")
				c := checkNamed(r, "exchange_online/"+name)
				if c == nil {
					t.Fatalf("no %s", name)
				}
				text := c.Problem
				if fix {
					text = c.Fix
				}
				if !strings.Contains(text, want) {
					t.Errorf("%s: %q lacks %q", k, text, want)
				}
			}
		})
	}
}

// TestExchangeOnlineConnectFailed: a connection that failed leaves both
// sections with an error each: no check is judged, and the finding
// points at the Entra app, not at Exchange or Skype for Business roles.
func TestExchangeOnlineConnectFailed(t *testing.T) {
	s := string(readTestdata(t, "exchange-online-ps51.json"))
	// The OrganizationConfig section stays: an error naming it makes it "not exported" all the same.
	s = mustReplace(t, s, `"Cmdlet":  "Get-OrganizationConfig",`, `"Cmdlet":  "Connect-ExchangeOnline",`)
	s = mustReplace(t, s, `"Errors":  [`, `"Errors":  [{"Section": "ExchangeOnline.OrganizationConfig", "Cmdlet": "Connect-ExchangeOnline", "Message": "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application."},`)
	r := probeEWS(t, onPremExchangeHybrid, testEWS, map[string]string{"c.json": s})
	for _, c := range r.Checks {
		if c.Component == ComponentExchangeOnline {
			t.Errorf("judged without a connection: %+v", c)
		}
	}
	for _, sec := range []string{"ExchangeOnline.OrganizationConfig", "ExchangeOnline.EwsOperationAccessPolicy"} {
		f := findingWith(r.Findings(), "section "+sec+" (Connect-ExchangeOnline)")
		if f == nil || !strings.Contains(f.Fix, "Entra app") || strings.Contains(f.Fix, "RTCUniversalReadOnlyAdmins") {
			t.Errorf("%s: %+v", sec, f)
		}
	}
	// An Exchange Online part whose section is missing without an error is
	// not silent either.
	s = mustReplace(t, string(readTestdata(t, "exchange-online-ps7.json")), `"EwsOperationAccessPolicy": [`, `"Other": [`)
	r = probeEWS(t, onPremExchangeHybrid, testEWS, map[string]string{"d.json": s})
	if f := findingWith(r.Findings(), "section ExchangeOnline.EwsOperationAccessPolicy"); f == nil || !strings.Contains(f.Problem, "missing or null") {
		t.Errorf("missing section: %+v", r.Findings())
	}
	if _, ok := checkStates(r)["exchange_online/ews_app_allowed"]; ok {
		t.Error("judged on a missing section")
	}
}

// manyIDs is n distinct application IDs as JSON strings.
func manyIDs(n int) string {
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf(`"%08d-0000-4000-8000-000000000000"`, i))
	}
	return strings.Join(ids, ", ")
}

func TestHybridDedicatedApp(t *testing.T) {
	verbatim := SettingOverride{Name: learnOverrideName, ComponentName: learnOverrideComponent, SectionName: learnOverrideSection, Parameters: List[Text]{learnOverrideParameters}, Server: List[Text]{}}
	with := func(f func(o *SettingOverride)) SettingOverride { o := verbatim; f(&o); return o }
	oab := SettingOverride{Name: "Change OAB Generation", ComponentName: "TimeBasedAssistants", SectionName: "OABGeneratorAssistant", Parameters: List[Text]{"WorkCycle=03:00:00"}, Server: List[Text]{"Mailbox01"}}
	for _, tc := range []struct {
		name string
		dep  Deployment
		in   List[SettingOverride]
		want string // "pass", "fail" or "" (absent)
		text string
	}{
		{"documented override", onPremExchangeHybrid, List[SettingOverride]{oab, verbatim}, "pass", ""},
		{"any case and spaces", onPremExchangeHybrid, List[SettingOverride]{with(func(o *SettingOverride) {
			o.ComponentName, o.SectionName, o.Parameters = "global", "exchangeonpremasthirdpartyappid", List[Text]{" Enabled = True "}
		})}, "pass", ""},
		{"none", onPremExchangeHybrid, List[SettingOverride]{oab}, "fail", "shared Exchange Online service principal"},
		{"empty", onPremExchangeHybrid, List[SettingOverride]{}, "fail", "no setting override Global/ExchangeOnpremAsThirdPartyAppId"},
		{"switched off", onPremExchangeHybrid, List[SettingOverride]{verbatim, with(func(o *SettingOverride) { o.Name, o.Parameters = "Off", List[Text]{"Enabled=false"} })}, "fail", "Off sets ExchangeOnpremAsThirdPartyAppId Enabled=false"},
		{"another server's", onPremExchangeHybrid, List[SettingOverride]{with(func(o *SettingOverride) { o.Server = List[Text]{"EX09"} })}, "fail", ""},
		{"this server's", onPremExchangeHybrid, List[SettingOverride]{with(func(o *SettingOverride) { o.Server = List[Text]{"EX09", "ex01"} })}, "pass", ""},
		{"another section", onPremExchangeHybrid, List[SettingOverride]{with(func(o *SettingOverride) { o.SectionName = "RouteThroughMSGraph" })}, "fail", ""},
		{"not exported (script before 1.2.0)", onPremExchangeHybrid, nil, "", ""},
		{"Exchange on-premises only", hybridOnPrem, List[SettingOverride]{}, "", ""},
		{"Exchange Online only", Deployment{Lync: estate.OnPrem, Exchange: estate.Online}, List[SettingOverride]{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := hybridAppChecks("exchange-ex01.contoso.com", "ex01.contoso.com", &ExchangeData{SettingOverrides: tc.in}, tc.dep)
			switch {
			case tc.want == "" && len(cs) != 0:
				t.Fatalf("judged: %+v", cs)
			case tc.want == "":
			case len(cs) != 1 || cs[0].Check != "hybrid_dedicated_app" || cs[0].Component != ComponentExchange:
				t.Fatalf("%+v", cs)
			case cs[0].Pass != (tc.want == "pass") || !strings.Contains(cs[0].Problem, tc.text):
				t.Fatalf("pass %v problem %q, want %s %q", cs[0].Pass, cs[0].Problem, tc.want, tc.text)
			}
			if len(cs) == 1 && !strings.Contains(cs[0].Fix, `New-SettingOverride -Name "EnableExchangeHybrid3PAppFeature" -Component "Global" -Section "ExchangeOnpremAsThirdPartyAppId" -Parameters @("Enabled=true")`) {
				t.Errorf("fix: %s", cs[0].Fix)
			}
		})
	}
}

func TestUserAgentMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, agent string
		want           bool
	}{
		{learnUserAgentPattern, "OWA/15.20.8158.20", true},
		{learnUserAgentPattern, "owa/1", true},
		{learnUserAgentPattern, "Outlook-iOS/2.0", false},
		{learnTeamsUserAgent, "Teams CalendarSkypeSpaces/1.0a$x+", true},
		{learnTeamsUserAgent, "Teams CalendarSkypeSpaces/1.0ax+", false}, // $ is literal
		{"", "OWA/1", false},
		{"*", "anything", true},
	} {
		if got := userAgentMatch(tc.pattern, tc.agent); got != tc.want {
			t.Errorf("%q ~ %q = %v", tc.pattern, tc.agent, got)
		}
	}
}
