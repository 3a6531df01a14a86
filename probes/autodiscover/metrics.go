package autodiscover

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Exchange autodiscover metrics. See
// docs/metrics.md#autodiscover.
var (
	adMethodLabels = []string{"domain", "method"}

	adMethodUpDesc = prometheus.NewDesc("sfbex_autodiscover_method_up",
		"1 if the autodiscover method leads to an endpoint that answers (401 with a challenge, or autodiscover XML), 0 if not.", adMethodLabels, nil)
	adMethodOutcomeDesc = prometheus.NewDesc("sfbex_autodiscover_method_outcome",
		"How the method's latest attempt ended, as a label (ok, challenge, server_error, tls_error, timeout, wrong_redirect, no_record, …). Always 1.",
		append(adMethodLabels, "outcome"), nil)
	adMethodStatusDesc = prometheus.NewDesc("sfbex_autodiscover_method_status_code",
		"HTTP status of the method's final answer; 0 when there was no HTTP answer.", adMethodLabels, nil)
	adMethodDurationDesc = prometheus.NewDesc("sfbex_autodiscover_method_duration_seconds",
		"How long the method took, redirects and SRV lookup included.", adMethodLabels, nil)
	adMethodStaleDesc = prometheus.NewDesc("sfbex_autodiscover_method_stale",
		"1 if the method's series come from an earlier run because its latest SRV lookup got no definitive answer, or its latest attempt did not finish within its share of the run.", adMethodLabels, nil)
	adClientMethodDesc = prometheus.NewDesc("sfbex_autodiscover_client_method",
		"1 for the method a client ends on (client: outlook tries root, autodiscover_host, http_redirect, srv; lync tries autodiscover_host, srv), 0 for the others.",
		[]string{"domain", "client", "method"}, nil)
	adClientFoundDesc = prometheus.NewDesc("sfbex_autodiscover_client_found",
		"1 if the client finds a working autodiscover endpoint by any of its methods, 0 if not.", []string{"domain", "client"}, nil)
	adRequestSuccessDesc = prometheus.NewDesc("sfbex_autodiscover_request_success",
		"1 if the authenticated request (protocol pox or soap) for the probe mailbox returned an EWS URL, 0 if not.", []string{"domain", "protocol"}, nil)
	adRequestStatusDesc = prometheus.NewDesc("sfbex_autodiscover_request_status_code",
		"HTTP status of the authenticated request's final answer; 0 when there was no HTTP answer.", []string{"domain", "protocol"}, nil)
	adRequestDurationDesc = prometheus.NewDesc("sfbex_autodiscover_request_duration_seconds",
		"How long the authenticated request took, authentication handshake included.", []string{"domain", "protocol"}, nil)
	adEWSURLDesc = prometheus.NewDesc("sfbex_autodiscover_ews_url_info",
		"An EWS URL autodiscover returned for the probe mailbox (role internal: EXCH / InternalEwsUrl; external: EXPR / ExternalEwsUrl). Always 1.",
		[]string{"domain", "protocol", "role", "url"}, nil)
	adEWSStaleDesc = prometheus.NewDesc("sfbex_autodiscover_ews_urls_stale",
		"1 if the latest run did not return EWS URLs and sfbex_autodiscover_ews_url_info shows the last ones known.", []string{"domain"}, nil)

	sfbURLUpDesc = prometheus.NewDesc("sfbex_sfb_exchange_autodiscover_url_up",
		"1 if Skype for Business' ExchangeAutodiscoverUrl (SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL) answers, 0 if not.", []string{"url"}, nil)
	sfbURLSVCDesc = prometheus.NewDesc("sfbex_sfb_exchange_autodiscover_url_svc",
		"1 if Skype for Business' ExchangeAutodiscoverUrl points at autodiscover.svc as it must, 0 if it points elsewhere (e.g. autodiscover.xml).", []string{"url"}, nil)
	sfbURLOAuthDesc = prometheus.NewDesc("sfbex_sfb_exchange_autodiscover_url_oauth_challenge",
		"1 if Skype for Business' ExchangeAutodiscoverUrl offers a Bearer (OAuth) challenge, 0 if not.", []string{"url"}, nil)
)

func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	d := r.Domain
	for _, mr := range r.Methods {
		if mr.Unfinished {
			continue // never finished: unknown, not down
		}
		m := string(mr.Method)
		ms = append(ms,
			probes.Gauge(adMethodUpDesc, probes.Bool(mr.Up), d, m),
			probes.Gauge(adMethodOutcomeDesc, 1, d, m, string(mr.Attempt.Outcome)),
			probes.Gauge(adMethodStatusDesc, float64(mr.Attempt.Status), d, m),
			probes.Gauge(adMethodDurationDesc, mr.Attempt.Duration.Seconds(), d, m),
			probes.Gauge(adMethodStaleDesc, probes.Bool(mr.Stale), d, m),
		)
	}
	for _, c := range []struct {
		client string
		order  []Method
	}{{ClientOutlook, Methods}, {ClientLync, LyncMethods}} {
		ends := r.EndsOn(c.client)
		for _, m := range c.order {
			ms = append(ms, probes.Gauge(adClientMethodDesc, probes.Bool(m == ends), d, c.client, string(m)))
		}
		ms = append(ms, probes.Gauge(adClientFoundDesc, probes.Bool(ends != ""), d, c.client))
	}
	for _, rr := range r.Requests {
		if rr.Unfinished {
			continue // unknown, not failed: the run's error names it
		}
		ms = append(ms,
			probes.Gauge(adRequestSuccessDesc, probes.Bool(rr.OK), d, rr.Protocol),
			probes.Gauge(adRequestStatusDesc, float64(rr.Attempt.Status), d, rr.Protocol),
			probes.Gauge(adRequestDurationDesc, rr.Attempt.Duration.Seconds(), d, rr.Protocol),
		)
	}
	for _, e := range r.EWS {
		ms = append(ms, probes.Gauge(adEWSURLDesc, 1, d, e.Protocol, e.Role, e.URL))
	}
	for _, b := range r.Builds() {
		ms = probes.ExchangeBuildMetrics(ms, d, b.Protocol, b.Server, b.Build)
	}
	if len(r.EWS) > 0 {
		ms = append(ms, probes.Gauge(adEWSStaleDesc, probes.Bool(r.EWSStale), d))
	}
	if s := r.SFB; s != nil && !s.Unfinished {
		ms = append(ms,
			probes.Gauge(sfbURLUpDesc, probes.Bool(s.Up), s.URL),
			probes.Gauge(sfbURLSVCDesc, probes.Bool(s.SVC), s.URL),
			probes.Gauge(sfbURLOAuthDesc, probes.Bool(s.OAuth), s.URL),
		)
	}
	return ms
}

// Lync autodiscover metrics. See docs/metrics.md#lync-autodiscover.
var (
	lyncLabels = []string{"domain", "view"}

	lyncUpDesc = prometheus.NewDesc("sfbex_lyncdiscover_up",
		"1 if Lync autodiscover through the view's name (external: lyncdiscover.<domain>, internal: lyncdiscoverinternal.<domain>) answered with _links and its user link answered, 0 if not.", lyncLabels, nil)
	lyncOutcomeDesc = prometheus.NewDesc("sfbex_lyncdiscover_outcome",
		"How the latest discovery ended, as a label (ok, challenge, unexpected_response, server_error, tls_error, timeout, …). Always 1.",
		append(lyncLabels, "outcome"), nil)
	lyncStatusDesc = prometheus.NewDesc("sfbex_lyncdiscover_status_code",
		"HTTP status of the discovery request; 0 when there was no HTTP answer.", lyncLabels, nil)
	lyncDurationDesc = prometheus.NewDesc("sfbex_lyncdiscover_duration_seconds",
		"How long the discovery took, redirect links and the user link included.", lyncLabels, nil)
	lyncRedirectsDesc = prometheus.NewDesc("sfbex_lyncdiscover_redirect_links",
		"Redirect links followed before the answer with the user link.", lyncLabels, nil)
	lyncOAuthDesc = prometheus.NewDesc("sfbex_lyncdiscover_oauth_challenge",
		"1 if the user link answered 401 with an MsRtcOAuth challenge, 0 if not.", lyncLabels, nil)
	lyncPoolDesc = prometheus.NewDesc("sfbex_lyncdiscover_pool_info",
		"The web services FQDN the user link points to (through the external view, the pool's published external name). Always 1.",
		append(lyncLabels, "pool"), nil)
)

func (r *LyncResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for _, v := range r.Views {
		if v.Unfinished {
			continue // unknown, not down: the run's error names it
		}
		l := []string{r.Domain, string(v.View)}
		ms = append(ms,
			probes.Gauge(lyncUpDesc, probes.Bool(v.Up), l...),
			probes.Gauge(lyncOutcomeDesc, 1, append(l, string(v.Outcome))...),
			probes.Gauge(lyncStatusDesc, float64(v.Status), l...),
			probes.Gauge(lyncDurationDesc, v.Duration.Seconds(), l...),
			probes.Gauge(lyncRedirectsDesc, float64(v.Redirects), l...),
			probes.Gauge(lyncOAuthDesc, probes.Bool(v.OAuth), l...),
		)
		if v.Pool != "" {
			ms = append(ms, probes.Gauge(lyncPoolDesc, 1, append(l, v.Pool)...))
		}
	}
	return ms
}
