package sip

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// SIP metrics. See docs/metrics.md#sip. Every series carries domain (the
// SIP domain whose record leads to the target; empty for a configured
// target), service (federation, clients, internal, configured) and target
// (host:port). No user is ever named.
var (
	labels = []string{"domain", "service", "target"}

	upDesc = prometheus.NewDesc("sfbex_sip_up",
		"1 if the latest OPTIONS got a final SIP answer (any status), 0 if not (sfbex_sip_outcome says why).", labels, nil)
	outcomeDesc = prometheus.NewDesc("sfbex_sip_outcome",
		"How the latest OPTIONS exchange ended: 1 for the outcome (answered, unreachable, tls_failed, no_answer, incomplete, closed, malformed), 0 for the others.",
		append(labels, "outcome"), nil)
	staleDesc = prometheus.NewDesc("sfbex_sip_answer_stale",
		"1 if the latest OPTIONS got no answer and the answer series show an earlier one.", labels, nil)
	statusDesc = prometheus.NewDesc("sfbex_sip_status_code",
		"Status code of the last SIP answer to OPTIONS (kept while the target does not answer; see sfbex_sip_answer_stale).", labels, nil)
	acceptedDesc = prometheus.NewDesc("sfbex_sip_status_accepted",
		"1 if the last answer's status is in SFBEX_SIP_ACCEPT_STATUS (200 by default), 0 if not.", labels, nil)
	rttDesc = prometheus.NewDesc("sfbex_sip_rtt_seconds",
		"Time from sending OPTIONS to the whole final answer, of the last answer.", labels, nil)
	answerAtDesc = prometheus.NewDesc("sfbex_sip_last_answer_timestamp_seconds",
		"When the last answer came (Unix time).", labels, nil)
	serverDesc = prometheus.NewDesc("sfbex_sip_server_info",
		"The last answer's Server header and the product family it names (sfb2019_or_se for RTC/7.0, sfb2015 for RTC/6.0, lync2013, lync2010, ocs2007, other). Always 1.",
		append(labels, "server", "product"), nil)
	diagDesc = prometheus.NewDesc("sfbex_sip_ms_diagnostics_info",
		"The last answer's ms-diagnostics code and reason. Absent when the answer has none. Always 1.",
		append(labels, "code", "reason"), nil)
	handshakeDesc = prometheus.NewDesc("sfbex_sip_tls_handshake_seconds",
		"Duration of the last TLS handshake that showed a certificate.", labels, nil)
	verifyOKDesc = prometheus.NewDesc("sfbex_sip_tls_verify_ok",
		"1 if the SIP service's certificate verifies for the name peers connect to (the SRV target) against the trusted CAs, 0 if not.", labels, nil)
	verifyResultDesc = prometheus.NewDesc("sfbex_sip_tls_verify_result",
		"The verification verdict as a label: ok, expired, not_yet_valid, name_mismatch, unknown_authority, incompatible_usage, invalid or other. Always 1.",
		append(labels, "reason"), nil)
	clientCertReqDesc = prometheus.NewDesc("sfbex_sip_tls_client_cert_requested",
		"1 if the server asked for a client certificate (mutual TLS, as Access Edge federation does), 0 if not.", labels, nil)
	clientCertSentDesc = prometheus.NewDesc("sfbex_sip_tls_client_cert_sent",
		"1 if the agent presented its configured client certificate (SFBEX_SIP_CLIENT_CERT), 0 if not.", labels, nil)
)

// AppendMetrics implements probes.Result.
func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for i := range r.Targets {
		t := &r.Targets[i]
		for _, d := range t.Domains {
			l := []string{d, r.Service, t.Target}
			ms = append(ms,
				probes.Gauge(upDesc, probes.Bool(t.Outcome == Answered), l...),
				probes.Gauge(staleDesc, probes.Bool(t.Stale), l...),
			)
			for _, o := range Outcomes {
				ms = append(ms, probes.Gauge(outcomeDesc, probes.Bool(t.Outcome == o), append(l, string(o))...))
			}
			if a := t.Answer; a != nil {
				ms = append(ms,
					probes.Gauge(statusDesc, float64(a.Status), l...),
					probes.Gauge(acceptedDesc, probes.Bool(r.Accepted(t)), l...),
					probes.Gauge(rttDesc, t.RTT.Seconds(), l...),
					probes.Gauge(answerAtDesc, float64(t.AnswerAt.Unix()), l...),
				)
				if a.Server != "" {
					ms = append(ms, probes.Gauge(serverDesc, 1, append(l, probes.Clip(a.Server), a.Product)...))
				}
				if dg := a.Diagnostics; dg != nil {
					ms = append(ms, probes.Gauge(diagDesc, 1, append(l, strconv.Itoa(dg.Code), probes.Clip(dg.Reason))...))
				}
			}
			if f := t.TLS; f != nil {
				ms = append(ms,
					probes.Gauge(handshakeDesc, f.Handshake.Seconds(), l...),
					probes.Gauge(verifyOKDesc, probes.Bool(f.VerifyOK), l...),
					probes.Gauge(verifyResultDesc, 1, append(l, f.VerifyReason)...),
					probes.Gauge(clientCertReqDesc, probes.Bool(f.ClientCertRequested), l...),
					probes.Gauge(clientCertSentDesc, probes.Bool(f.ClientCertSent), l...),
				)
			}
		}
	}
	return ms
}
