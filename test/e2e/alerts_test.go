package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
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
	"edge-cert-wrong-name": {
		"SfbexTLSCertificateNameMismatch{endpoint=sip.contoso.test:443,name=sip.contoso.test}",
		"SfbexTLSCertificateNameMismatch{endpoint=sip.contoso.test:5061,name=sip.contoso.test}",
	},
	"tls-expired": {
		"SfbexTLSCertificateExpired{source=sip.contoso.test:443,role=leaf}",
		"SfbexTLSCertificateExpired{source=sip.contoso.test:5061,role=leaf}",
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
	// One alert per domain and product, whichever answer (autodiscover
	// SOAP/POX, X-OWA-Version) shows the build first.
	"exchange-out-of-support": {"SfbexExchangeOutOfSupport{domain=contoso.test,product=exchange_2016}"},
	"ews-policy-blocked":      {"SfbexEWSBlockedByPolicy{url=https://mail.contoso.test/EWS/Exchange.asmx,reason=disabled}"},
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
	"federation-disabled":          {"SfbexIntegrationCheckFailing{check=access_edge_allow_federated_users}"},
	"oauth-autodiscover-xml":       {"SfbexIntegrationCheckFailing{check=oauth_exchange_autodiscover_url}"},
	"partner-app-missing":          {"SfbexIntegrationCheckFailing{check=partner_application_exchange}"},
	"owa-im-disabled":              {"SfbexIntegrationCheckFailing{check=owa_im_enabled}"},
	"next-cert-not-staged":         {"SfbexIntegrationCheckFailing{check=auth_next_certificate_staged}"},
}

// testThresholds lowers thresholds the lab cannot reach in seconds: the lab's
// replica has been behind for 10 minutes (the shipped threshold is 15), and a
// snapshot feed stopped during the test is only seconds old (30 minutes).
var testThresholds = map[string]string{
	"sfbex:threshold:cms_replica_behind_seconds":   "60",
	"sfbex:threshold:cms_snapshot_max_age_seconds": "10",
}

// faultGroups puts one fault of each family on each agent: faults of
// different families touch different checks, so each agent's expected alerts
// are the union of its faults' and anything else firing is a failure. This
// keeps the test to a handful of agents on a two-core machine.
func faultGroups() [][]string {
	byFamily := map[string][]string{}
	var families []string
	for _, f := range lab.Faults {
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

// testRules shortens every `for:` so the test runs in seconds; windows and
// thresholds stay as shipped.
func testRules(t *testing.T) map[string]string {
	t.Helper()
	root := infra.ModuleRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "alerts", "*.rules.yml"))
	out := map[string]string{}
	forRe := regexp.MustCompile(`(?m)^(\s+)for: \S+$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := f[strings.LastIndex(f, "/")+1:]
		rules := forRe.ReplaceAllString(string(b), "${1}for: 3s")
		for record, v := range testThresholds {
			re := regexp.MustCompile(`(record: ` + regexp.QuoteMeta(record) + `\n\s+expr: )vector\([^)]*\)`)
			if !re.MatchString(rules) {
				t.Fatalf("%s: no recording rule %s to lower", name, record)
			}
			rules = re.ReplaceAllString(rules, "${1}vector("+v+")")
		}
		out[name] = rules
	}
	return out
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
	sort.Strings(faults)

	// One lab agent per group of faults, all scraped by one Prometheus; the
	// target's "fault" label tells the alerts apart. The lab interval leaves
	// every check its own few seconds even with nine agents on two cores.
	agents := map[string]*infra.Agent{}
	var targets strings.Builder
	for _, f := range faults {
		a := infra.StartAgent(t, bin, []string{"--lab", "--lab.interval=3s", "--log.level=warn"}, nil)
		agents[f] = a
		fmt.Fprintf(&targets, "      - targets: [%q]\n        labels: {fault: %q}\n", a.Addr, f)
	}
	config := "global: {scrape_interval: 2s, evaluation_interval: 1s}\n" +
		"rule_files: [\"*.rules.yml\"]\n" +
		"scrape_configs:\n  - job_name: sfbex\n    static_configs:\n" + targets.String()
	prom := infra.StartPrometheus(t, config, testRules(t))

	// Wait until every agent is scraped, so a fault switched on now is a
	// change Prometheus sees (drift is a change, not a state).
	waitUntil(t, 60*time.Second, "every agent scraped", func() bool {
		var res []struct{}
		prom.API(t, "query", url.Values{"query": {`group by (fault) (sfbex_probe_runs_total{job="sfbex"})`}}, &struct {
			Result *[]struct{} `json:"result"`
		}{&res})
		return len(res) == len(faults)
	})
	for group, a := range agents {
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
