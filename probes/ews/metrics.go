package ews

import (
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// EWS metrics. See docs/metrics.md#ews. The domain label is
// the email domain whose autodiscover returned the URL, empty for URLs
// from SFBEX_EWS_URLS, so the same URL learned for two domains gives two
// series instead of a duplicate.
var (
	ewsLabels = []string{"domain", "url"}

	ewsUpDesc = prometheus.NewDesc("sfbex_ews_up",
		"1 if EWS answered as a live service (401 with a challenge, or 2xx with a SOAP answer or a WSDL), 0 if not: a web page, an empty body, other bytes or a body longer than SFBEX_HTTP_MAX_BODY_BYTES at 2xx is not EWS.", ewsLabels, nil)
	ewsOutcomeDesc = prometheus.NewDesc("sfbex_ews_outcome",
		"How the latest request ended, as a label (challenge, ok, web_page, empty_body, unexpected_response, body_too_large, server_error, tls_error, timeout, connect_error, …). Always 1.",
		append(ewsLabels, "outcome"), nil)
	ewsStatusDesc = prometheus.NewDesc("sfbex_ews_status_code",
		"HTTP status of EWS's answer; 0 when there was no HTTP answer.", ewsLabels, nil)
	ewsDurationDesc = prometheus.NewDesc("sfbex_ews_request_duration_seconds",
		"How long the unauthenticated request took: connection, TLS handshake and answer.", ewsLabels, nil)
	ewsOAuthDesc = prometheus.NewDesc("sfbex_ews_oauth_challenge",
		"1 if EWS offers a Bearer (OAuth) challenge, 0 if not.", ewsLabels, nil)
	ewsOAuthExpectedDesc = prometheus.NewDesc("sfbex_ews_oauth_expected",
		"1 if a missing Bearer challenge is a finding (SFBEX_EWS_EXPECT_OAUTH).", ewsLabels, nil)
	ewsAuthzURIDesc = prometheus.NewDesc("sfbex_ews_oauth_authorization_uri_present",
		"1 if the Bearer challenge carries an authorization_uri (hybrid modern authentication with Azure AD), 0 if not.", ewsLabels, nil)
	ewsSchemeDesc = prometheus.NewDesc("sfbex_ews_auth_scheme_offered",
		"1 for each authentication scheme EWS offers (basic, bearer, negotiate, ntlm, digest, kerberos, msrtcoauth, other).",
		append(ewsLabels, "scheme"), nil)
	ewsPolicyBlockedDesc = prometheus.NewDesc("sfbex_ews_policy_blocked",
		"1 if EWS answered 403 with X-EWS-Policy-Reason (blocked by the tenant's or the user's EWS policy), 0 if it answered without; reason is disabled (\"EWS is disabled for this user or tenant\"), blocked_by_policy (\"EWS is blocked by policy for this user or tenant\"), other, or empty when not blocked.",
		append(ewsLabels, "reason"), nil)
	ewsIssuerDesc = prometheus.NewDesc("sfbex_ews_oauth_trusted_issuer_info",
		"An issuer in the Bearer challenge's trusted_issuers (e.g. 00000001-0000-0000-c000-000000000000@<realm>). Always 1.",
		append(ewsLabels, "issuer"), nil)
)

func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	seen := map[string]bool{}
	for _, ep := range r.Endpoints {
		l := []string{r.Domain, ep.URL}
		if u, err := url.Parse(ep.URL); err == nil {
			host := strings.ToLower(u.Hostname())
			// One host, several EWS URLs: one series per protocol.
			if ep.OWAVersion != "" && !seen["owa "+host] {
				seen["owa "+host] = true
				ms = probes.ExchangeBuildMetrics(ms, r.Domain, "owa", host, ep.OWAVersion)
			}
			if ep.ServerVersion != "" && !seen["ews "+host] {
				seen["ews "+host] = true
				ms = probes.ExchangeBuildMetrics(ms, r.Domain, "ews", host, ep.ServerVersion)
			}
		}
		ms = append(ms,
			probes.Gauge(ewsUpDesc, probes.Bool(ep.Up), l...),
			probes.Gauge(ewsOutcomeDesc, 1, append(l, string(ep.Attempt.Outcome))...),
			probes.Gauge(ewsStatusDesc, float64(ep.Attempt.Status), l...),
			probes.Gauge(ewsDurationDesc, ep.Attempt.Duration.Seconds(), l...),
			probes.Gauge(ewsOAuthExpectedDesc, probes.Bool(r.ExpectOAuth), l...),
		)
		if ep.Attempt.Status == 0 {
			continue // no answer: nothing is known about its schemes
		}
		if ep.PolicyReason != "" {
			// Behind a policy block the challenges say nothing about OAuth.
			ms = append(ms, probes.Gauge(ewsPolicyBlockedDesc, 1, append(l, PolicyKind(ep.PolicyReason))...))
			continue
		}
		ms = append(ms,
			probes.Gauge(ewsPolicyBlockedDesc, 0, append(l, "")...),
			probes.Gauge(ewsOAuthDesc, probes.Bool(ep.OAuth), l...),
			probes.Gauge(ewsAuthzURIDesc, probes.Bool(ep.AuthorizationURI != ""), l...),
		)
		for _, s := range ep.Schemes {
			ms = append(ms, probes.Gauge(ewsSchemeDesc, 1, append(l, s)...))
		}
		for _, iss := range ep.TrustedIssuers {
			ms = append(ms, probes.Gauge(ewsIssuerDesc, 1, append(l, iss)...))
		}
	}
	return ms
}
