package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// expectedAlerts lists, per lab fault, the alerts that must fire, each as
// "AlertName" or "AlertName{label=value,...}" naming the labels that tell
// which record, certificate or replica is concerned. Every other alert
// must stay silent on that instance, and nothing may fire on the healthy
// one.
var expectedAlerts = map[string][]string{
	"dns-drift": {
		"SfbexDNSDrift{record=sip,resolver=external}",
		"SfbexDNSRecordNotAsExpected{record=sip,resolver=external}",
	},
	"dns-missing": {
		"SfbexDNSRecordMissing{record=lyncdiscoverinternal,resolver=internal}",
		"SfbexDNSDrift{record=lyncdiscoverinternal,resolver=internal}",
	},
	"dns-mixed": {
		"SfbexDNSRecordsOnBothSides",
		"SfbexDNSRecordNotAsExpected{record=lyncdiscover,resolver=external}",
		"SfbexDNSDrift{record=lyncdiscover,resolver=external}",
	},
	"dns-split": {
		"SfbexDNSViewsDisagree{record=_sipfederationtls._tcp}",
		"SfbexDNSDrift{record=_sipfederationtls._tcp,resolver=internal}",
	},
	"oauth-expiring": {"SfbexOAuthCertificateExpiring{severity=critical,subject_cn=Microsoft Exchange Server Auth Certificate}"},
	"oauth-expired":  {"SfbexOAuthCertificateExpired{subject_cn=Microsoft Exchange Server Auth Certificate}"},
	"oauth-next-missing": {
		"SfbexOAuthCertificateExpiring{severity=warning,subject_cn=Microsoft Exchange Server Auth Certificate}",
		"SfbexOAuthNextCertificateMissing{subject_cn=Microsoft Exchange Server Auth Certificate}",
	},
	"sfb-cert-1024":          {"SfbexOAuthCertificateWeakKey{source=https://pool01.contoso.test/metadata/json/1}"},
	"sfb-cert-no-sip-domain": {"SfbexOAuthCertificateWithoutSIPDomain{source=https://pool01.contoso.test/metadata/json/1}"},
	// The Edge's certificate is the SIP services' too: partners and clients
	// refuse it for SIP as well.
	"edge-cert-wrong-name": {
		"SfbexTLSCertificateNameMismatch{endpoint=sip.contoso.test:443,name=sip.contoso.test}",
		"SfbexTLSCertificateNameMismatch{endpoint=sip.contoso.test:5061,name=sip.contoso.test}",
		"SfbexSIPCertificateNotAccepted{service=clients,target=sip.contoso.test:443}",
		"SfbexSIPCertificateNotAccepted{service=federation,target=sip.contoso.test:5061}",
	},
	"tls-expired": {
		"SfbexTLSCertificateExpired{source=sip.contoso.test:443,role=leaf}",
		"SfbexTLSCertificateExpired{source=sip.contoso.test:5061,role=leaf}",
		"SfbexSIPCertificateNotAccepted{service=clients,target=sip.contoso.test:443}",
		"SfbexSIPCertificateNotAccepted{service=federation,target=sip.contoso.test:5061}",
	},
	// TLS completes, no SIP answer: the TLS alerts stay silent. A target
	// that does not answer fails its check's run (its last answer is kept,
	// stale), so the check keeps failing too.
	"sip-edge-stopped": {
		"SfbexSIPNotAnswering{service=clients,target=sip.contoso.test:443}",
		"SfbexSIPNotAnswering{service=federation,target=sip.contoso.test:5061}",
		"SfbexProbeFailing{probe=sip,target=clients}",
		"SfbexProbeFailing{probe=sip,target=federation}",
	},
	"sip-federation-403": {"SfbexSIPAnswerError{service=federation,target=sip.contoso.test:5061}"},
	"sip-federation-504": {"SfbexSIPAnswerError{service=federation,target=sip.contoso.test:5061}"},
	"sip-federation-cert-no-name": {
		"SfbexSIPCertificateNotAccepted{service=federation,target=sip.contoso.test:5061}",
		"SfbexTLSCertificateNameMismatch{endpoint=sip.contoso.test:5061,name=sip.contoso.test}",
	},
	"autodiscover-down": {
		"SfbexAutodiscoverUnreachable{client=lync}",
		"SfbexAutodiscoverUnreachable{client=outlook}",
		"SfbexSfBExchangeAutodiscoverUrlBroken",
	},
	"autodiscover-wrong-redirect": {"SfbexAutodiscoverMethodFailing{method=http_redirect}"},
	"ews-503":                     {"SfbexEWSUnreachable{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"ews-no-oauth":                {"SfbexEWSNoOAuth{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"autodiscover-online": {
		"SfbexEWSOnlineShutdownNear{dependency=sfb_server_exchange_online}",
		"SfbexDNSRecordNotAsExpected{record=autodiscover,resolver=external}",
		"SfbexDNSDrift{record=autodiscover,resolver=external}",
	},
	// From outside, one alert per domain and product, whichever answer
	// (autodiscover SOAP/POX, X-OWA-Version) shows the build first; from
	// the Exchange server's own settings snapshot, one per server. The
	// failing exchange/server_supported check fires no generic alert.
	"exchange-out-of-support": {
		"SfbexExchangeOutOfSupport{domain=contoso.test,product=exchange_2016}",
		"SfbexExchangeOutOfSupport{server=ex01.contoso.test,product=exchange_2016}",
	},
	"ews-policy-blocked": {"SfbexEWSBlockedByPolicy{url=https://mail.contoso.test/EWS/Exchange.asmx,reason=disabled}"},
	// Something other than EWS answering 200: down, not "no OAuth".
	"ews-html":          {"SfbexEWSUnreachable{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"ews-garbage":       {"SfbexEWSUnreachable{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"ews-endless":       {"SfbexEWSUnreachable{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"ews-empty":         {"SfbexEWSUnreachable{url=https://mail.contoso.test/EWS/Exchange.asmx}"},
	"lyncdiscover-html": {"SfbexLyncdiscoverBroken{view=external}"},
	"directory-sip-stripped": { // every fifth lab user, including those of SIP domains not configured ("other")
		"SfbexSIPProxyAddressCoverageLow{domain=contoso.test}",
		"SfbexSIPProxyAddressCoverageFalling{domain=contoso.test}",
		"SfbexSIPProxyAddressCoverageLow{domain=other}",
		"SfbexSIPProxyAddressCoverageFalling{domain=other}",
	},
	"directory-down":    {"SfbexProbeFailing{probe=directory}"},
	"cms-replica-stale": {"SfbexCMSReplicaNotUpToDate{replica=edge01.contoso.test}"},
	"cms-snapshot-stale": {
		"SfbexCMSSnapshotStale{source=exchange-ex01.contoso.test}",
		"SfbexCMSSnapshotStale{source=sfb-fe01.contoso.test}",
	},
	"hosting-provider-wrong":       {"SfbexIntegrationCheckFailing{check=hosting_provider_shared_address_space}"},
	"hosting-provider-wrong-cloud": {"SfbexIntegrationCheckFailing{check=hosting_provider_proxy_fqdn}"},
	"sfb-oauth-roll-missing":       {"SfbexIntegrationCheckFailing{check=oauth_token_issuer_roll_staged}"},
	"teams-provider-wrong":         {"SfbexIntegrationCheckFailing{check=teams_provider_hosts_ocs_users}"},
	"sfb-out-of-support":           {"SfbexSkypeServerOutOfSupport{product=sfb_2015}"},
	// 2019 below the hybrid app's minimum is also out of support: two
	// checks, each with its own alert (neither fires the generic one).
	"sfb-hybrid-app-build-too-old": {"SfbexSkypeHybridAppBuildTooOld{check=hybrid_app_minimum_build}", "SfbexSkypeServerOutOfSupport{product=sfb_2019}"},
	"oauth-roll-late":              {"SfbexIntegrationCheckFailing{check=oauth_token_issuer_roll_staged}"},
	"tenant-shared-sip-off":        {"SfbexIntegrationCheckFailing{check=tenant_shared_sip_address_space}"},
	"federation-disabled":          {"SfbexIntegrationCheckFailing{check=access_edge_allow_federated_users}"},
	"oauth-autodiscover-xml":       {"SfbexIntegrationCheckFailing{check=oauth_exchange_autodiscover_url}"},
	"partner-app-missing":          {"SfbexIntegrationCheckFailing{check=partner_application_exchange}"},
	"owa-im-disabled":              {"SfbexIntegrationCheckFailing{check=owa_im_enabled}"},
	"next-cert-not-staged":         {"SfbexIntegrationCheckFailing{check=auth_next_certificate_staged}"},
	// On the exchange-hybrid variant (lab.VariantFaults).
	"exo-ews-disabled":           {"SfbexExchangeOnlineEWSDisabled"},
	"exo-ews-app-not-allowed":    {"SfbexExchangeOnlineEWSAppNotAllowed"},
	"exo-ews-user-agent-blocked": {"SfbexExchangeOnlineEWSUserAgentBlocked"},
	"exchange-hybrid-app-shared": {"SfbexExchangeHybridAppNotDedicated"},
}

// variantAlerts fire on every agent of a lab variant, healthy or not: its
// real dependencies on EWS in Exchange Online.
var variantAlerts = map[string][]string{
	"exchange-hybrid": {
		"SfbexEWSOnlineShutdownNear{dependency=sfb_server_exchange_online}",
		"SfbexEWSOnlineShutdownNear{dependency=exchange_hybrid}",
	},
}

// labJob is the scrape job of the alerts test: not the mixin's default
// ("sfbex"), so the rules it loads must come from the mixin rendered with
// that selector, and a rule that ignored the selector would stay silent.
const labJob = "sfbex-lab"

// testConfig is mixed into the mixin's _config for the alerts test. It
// lowers thresholds the lab cannot reach in seconds: the lab's replica has
// been behind for 10 minutes (the shipped threshold is 15), and a snapshot
// feed stopped during the test is only seconds old (30 minutes).
const testConfig = `{ sfbexSelector: 'job="` + labJob + `"', thresholds+: { cmsReplicaBehindSeconds: 60, cmsSnapshotMaxAgeSeconds: 10 } }`

// faultGroups puts one fault of each family on each agent: faults of
// different families touch different checks, so each agent's expected alerts
// are the union of its faults' and anything else firing is a failure. This
// keeps the test to a handful of agents on a two-core machine.
func faultGroups() [][]string {
	byFamily := map[string][]string{}
	var families []string
	for _, f := range lab.Faults {
		if lab.VariantFaults[f.Name] != "" {
			continue // variantGroups
		}
		if _, ok := byFamily[f.Family]; !ok {
			families = append(families, f.Family)
		}
		byFamily[f.Family] = append(byFamily[f.Family], f.Name)
	}
	var groups [][]string
	for i := 0; ; i++ {
		var g []string
		for _, fam := range families {
			if i < len(byFamily[fam]) {
				g = append(g, byFamily[fam][i])
			}
		}
		if len(g) == 0 {
			return groups
		}
		groups = append(groups, g)
	}
}

// aloneFaults hide another fault's check, so they get an agent of their
// own: with EwsEnabled unset the EWS allow list has no effect and is not
// judged.
var aloneFaults = map[string]bool{"exo-ews-disabled": true}

// variantGroups puts the faults of each lab variant on one agent of that
// variant ("<variant>:<fault>+<fault>"), next to a healthy one
// ("<variant>:healthy"): they touch different checks.
func variantGroups() []string {
	byVariant := map[string][]string{}
	var out []string
	for _, f := range lab.Faults {
		switch v := lab.VariantFaults[f.Name]; {
		case v == "":
		case aloneFaults[f.Name]:
			out = append(out, v+":"+f.Name)
		default:
			byVariant[v] = append(byVariant[v], f.Name)
		}
	}
	for v, fs := range byVariant {
		out = append(out, v+":healthy", v+":"+strings.Join(fs, "+"))
	}
	return out
}

// testRules renders the mixin's rules with config (a Jsonnet object mixed
// into its _config; "" for the defaults, the rules shipped in alerts/) and
// shortens every `for:` so the test runs in seconds; windows and thresholds
// stay as rendered. The mixin is its own Go module (mixin/): its generator
// runs with `go run` there.
func testRules(t *testing.T, config string) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sfbex.rules.yml")
	cmd := exec.Command("go", "run", "./cmd/sfbex-mixin", "-config", config, "-rules", out)
	cmd.Dir = filepath.Join(infra.ModuleRoot(t), "mixin")
	if config == "" {
		// The shipped file: the defaults.
		cmd.Args = []string{"go", "run", "./cmd/sfbex-mixin", "-rules", out}
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rendering the mixin's rules: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	forRe := regexp.MustCompile(`(?m)^(\s+)for: \S+$`)
	if !forRe.Match(b) {
		t.Fatal("no for: clause to shorten in the rendered rules")
	}
	return map[string]string{"sfbex.rules.yml": forRe.ReplaceAllString(string(b), "${1}for: 3s")}
}

// describe renders an alert with the labels its expectation names.
func describe(a infra.Alert, want string) string {
	name, labels, _ := strings.Cut(strings.TrimSuffix(want, "}"), "{")
	if a.Labels["alertname"] != name {
		return ""
	}
	if labels == "" {
		return name
	}
	var parts []string
	for _, kv := range strings.Split(labels, ",") {
		k, _, _ := strings.Cut(kv, "=")
		parts = append(parts, k+"="+a.Labels[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// firing returns, per fault label, the firing alerts described in the form
// the expectations use.
func firing(alerts []infra.Alert, faults []string) map[string][]string {
	out := map[string][]string{}
	for _, a := range alerts {
		if a.State != "firing" {
			continue
		}
		f := a.Labels["fault"]
		d := unexpected(a)
		for _, want := range expectedFor(f) {
			if s := describe(a, want); s != "" && s == want {
				d = s
				break
			}
		}
		if !slices.Contains(out[f], d) {
			out[f] = append(out[f], d)
		}
	}
	for _, f := range faults {
		sort.Strings(out[f])
	}
	return out
}

// expectedFor returns the alerts expected of an agent whose "fault" label
// is a "+"-joined group of faults.
func expectedFor(group string) []string {
	var out []string
	if v, rest, ok := strings.Cut(group, ":"); ok {
		out, group = append(out, variantAlerts[v]...), rest
	}
	for _, f := range strings.Split(group, "+") {
		out = append(out, expectedAlerts[f]...)
	}
	return out
}

func TestEveryLabFaultHasExpectedAlerts(t *testing.T) {
	for _, f := range lab.Faults {
		if len(expectedAlerts[f.Name]) == 0 {
			t.Errorf("lab fault %s has no expected alerts: an alert rule is missing, or the fault is not one", f.Name)
		}
	}
	for f := range expectedAlerts {
		if !slices.ContainsFunc(lab.Faults, func(lf lab.Fault) bool { return lf.Name == f }) {
			t.Errorf("expectedAlerts names %s, which is no lab fault", f)
		}
	}
}

func TestAlertsFireOnTheirFaultAndNothingElse(t *testing.T) {
	infra.Require(t, "prometheus", "promtool")
	bin := infra.BuildAgent(t)
	groups := faultGroups()
	faults := []string{"healthy"}
	for _, g := range groups {
		faults = append(faults, strings.Join(g, "+"))
	}
	faults = append(faults, variantGroups()...)
	sort.Strings(faults)

	// One lab agent per group of faults, all scraped by one Prometheus; the
	// target's "fault" label tells the alerts apart. The lab interval leaves
	// every check its own few seconds even with nine agents on two cores.
	agents := map[string]*infra.Agent{}
	var targets strings.Builder
	for _, f := range faults {
		args := []string{"--lab", "--lab.interval=3s", "--log.level=warn"}
		if v, _, ok := strings.Cut(f, ":"); ok {
			args = append(args, "--lab.variant="+v)
		}
		a := infra.StartAgent(t, bin, args, nil)
		agents[f] = a
		fmt.Fprintf(&targets, "      - targets: [%q]\n        labels: {fault: %q}\n", a.Addr, f)
	}
	config := "global: {scrape_interval: 2s, evaluation_interval: 1s}\n" +
		"rule_files: [\"*.rules.yml\"]\n" +
		"scrape_configs:\n  - job_name: " + labJob + "\n    static_configs:\n" + targets.String()
	prom := infra.StartPrometheus(t, config, testRules(t, testConfig))

	// Wait until every agent is scraped, so a fault switched on now is a
	// change Prometheus sees (drift is a change, not a state).
	waitUntil(t, 60*time.Second, "every agent scraped", func() bool {
		var res []struct{}
		prom.API(t, "query", url.Values{"query": {`group by (fault) (sfbex_probe_runs_total{job="` + labJob + `"})`}}, &struct {
			Result *[]struct{} `json:"result"`
		}{&res})
		return len(res) == len(faults)
	})
	for group, a := range agents {
		if _, rest, ok := strings.Cut(group, ":"); ok {
			group = rest
		}
		if group == "healthy" {
			continue
		}
		for _, f := range strings.Split(group, "+") {
			resp, err := http.Post(a.URL+"/lab/faults/"+f+"?on=true", "", nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("switching %s on: %v %v", f, err, resp)
			}
			resp.Body.Close()
		}
	}

	want := map[string][]string{}
	for _, f := range faults {
		w := slices.Clone(expectedFor(f))
		sort.Strings(w)
		want[f] = w
	}
	var got map[string][]string
	match := func() bool {
		got = firing(prom.Alerts(t), faults)
		for _, f := range faults {
			if !slices.Equal(got[f], want[f]) {
				return false
			}
		}
		return true
	}
	if !waitUntilOK(90*time.Second, match) {
		for _, f := range faults {
			if !slices.Equal(got[f], want[f]) {
				t.Errorf("%s: firing %v, want %v", f, got[f], want[f])
			}
		}
		t.FailNow()
	}
	// And it stays that way: no alert arrives late.
	time.Sleep(8 * time.Second)
	if !match() {
		for _, f := range faults {
			if !slices.Equal(got[f], want[f]) {
				t.Errorf("%s, 8 s later: firing %v, want %v", f, got[f], want[f])
			}
		}
	}
}

// unexpected renders an alert no expectation names with all its own labels.
func unexpected(a infra.Alert) string {
	var parts []string
	for k, v := range a.Labels {
		switch k {
		case "alertname", "job", "instance", "fault", "severity":
		default:
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return a.Labels["alertname"]
	}
	return a.Labels["alertname"] + "{" + strings.Join(parts, ",") + "}"
}

func waitUntilOK(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Second)
	}
	return cond()
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !waitUntilOK(d, cond) {
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

// A Prometheus that loads the shipped rules (job="sfbex") but scrapes the
// agent under another job name must stay silent: nothing about the agent
// matches, and SfbexAgentDown must not take "no series" for "agent gone"
// (absent() alone did).
func TestShippedRulesSilentOnAnotherJob(t *testing.T) {
	infra.Require(t, "prometheus", "promtool")
	a := infra.StartAgent(t, infra.BuildAgent(t), []string{"--lab", "--lab.interval=3s", "--log.level=warn"}, nil)
	config := "global: {scrape_interval: 1s, evaluation_interval: 1s}\n" +
		"rule_files: [\"*.rules.yml\"]\n" +
		"scrape_configs:\n  - job_name: other-job\n    static_configs:\n" +
		fmt.Sprintf("      - targets: [%q]\n", a.Addr)
	prom := infra.StartPrometheus(t, config, testRules(t, ""))
	var scrapedAt time.Time
	waitUntil(t, 60*time.Second, "the agent scraped as other-job", func() bool {
		res, err := instantQuery(prom.URL, `up{job="other-job"} == 1`)
		scrapedAt = time.Now()
		return err == nil && len(res) == 1
	})
	// Every rule group evaluated well past the shortened for: (3 s) after that.
	waitUntil(t, 60*time.Second, "the rules evaluated 8 s after the first scrape", func() bool {
		var rules struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		}
		prom.API(t, "rules", nil, &rules)
		if len(rules.Groups) == 0 {
			return false
		}
		for _, g := range rules.Groups {
			if g.LastEvaluation.Before(scrapedAt.Add(8 * time.Second)) {
				return false
			}
		}
		return true
	})
	for _, al := range prom.Alerts(t) {
		t.Errorf("%s %s %v: the shipped rules must stay silent when no agent is scraped as job sfbex", al.State, al.Labels["alertname"], al.Labels)
	}
}
