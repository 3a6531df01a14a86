package certs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Certificate metrics. See docs/metrics.md#certificates.
// Every certificate series carries kind (oauth, tls, file), source (the
// metadata URL, the endpoint host:port or the file path), role, subject_cn
// and serial; the last two tell two certificates of one source apart.
var (
	certLabels       = []string{"kind", "source", "role", "subject_cn", "serial"}
	certSourceLabels = []string{"kind", "source"}

	certNotAfterDesc = prometheus.NewDesc("sfbex_cert_not_after_timestamp_seconds",
		"When the certificate expires (Unix time). (x - time()) / 86400 is the days left. Reported whatever the verification verdict.", certLabels, nil)
	certNotBeforeDesc = prometheus.NewDesc("sfbex_cert_not_before_timestamp_seconds",
		"When the certificate becomes valid (Unix time).", certLabels, nil)
	certKeyBitsDesc = prometheus.NewDesc("sfbex_cert_key_size",
		"Size of the certificate's public key in bits (RSA modulus, ECDSA curve).", certLabels, nil)
	certInfoDesc = prometheus.NewDesc("sfbex_cert_info",
		"Facts about the certificate as labels: issuer CN, SHA-1 thumbprint (as Windows shows it), key algorithm, self-signed. Always 1.",
		append(certLabels, "issuer_cn", "thumbprint", "key_algorithm", "self_signed"), nil)
	certSIPDomainDesc = prometheus.NewDesc("sfbex_cert_subject_has_sip_domain",
		"1 if the Skype for Business OAuthTokenIssuer certificate's Subject includes a SIP domain (seed 003), 0 if not.", certLabels, nil)
	certX5TDesc = prometheus.NewDesc("sfbex_oauth_cert_x5t_matches",
		"1 if the x5t published beside the certificate is its SHA-1 hash, 0 if not. Absent when the document publishes no keyinfo.", certLabels, nil)

	certSourceUpDesc = prometheus.NewDesc("sfbex_cert_source_up",
		"1 if the latest fetch, handshake or read of the source succeeded, 0 if not.", certSourceLabels, nil)
	certSourceStaleDesc = prometheus.NewDesc("sfbex_cert_source_stale",
		"1 if the latest attempt failed and the certificate series show what an earlier one saw.", certSourceLabels, nil)
	certSourceCheckedDesc = prometheus.NewDesc("sfbex_cert_source_last_success_timestamp_seconds",
		"When the certificates shown were fetched, seen in a handshake or read (Unix time).", certSourceLabels, nil)

	oauthInfoDesc = prometheus.NewDesc("sfbex_oauth_metadata_info",
		"The auth metadata document's realm, issuer and serviceName, and who publishes it (server: exchange, sfb, other). Always 1.",
		[]string{"source", "server", "realm", "issuer", "service_name"}, nil)
	oauthNextDesc = prometheus.NewDesc("sfbex_oauth_next_certificate_present",
		"1 if the document publishes a next signing certificate that outlives the current one, 0 if not.", []string{"source"}, nil)
	oauthSigningDesc = prometheus.NewDesc("sfbex_oauth_signing_certificates",
		"Signing certificates the document publishes.", []string{"source"}, nil)
	oauthPoolsDesc = prometheus.NewDesc("sfbex_oauth_pools_same_certificate",
		"1 if every Skype for Business pool in SFBEX_SFB_METADATA_URLS publishes the same current certificate, 0 if not. Absent with fewer than two pools.", nil, nil)

	tlsEndpointDesc = prometheus.NewDesc("sfbex_tls_endpoint_info",
		"Where a TLS endpoint comes from: service is the record it was derived from (autodiscover, lyncdiscover, lyncdiscoverinternal, _sip._tls, _sipfederationtls._tcp), ews (a host of SFBEX_EWS_URLS) or configured. Always 1.",
		[]string{"endpoint", "service", "domain"}, nil)
	tlsVerifyOKDesc = prometheus.NewDesc("sfbex_tls_verify_ok",
		"1 if the endpoint's chain verifies for its host name against the trusted CAs, 0 if not.", []string{"endpoint"}, nil)
	tlsVerifyResultDesc = prometheus.NewDesc("sfbex_tls_verify_result",
		"The verification verdict as a label: ok, expired, not_yet_valid, name_mismatch, unknown_authority, incompatible_usage, invalid or other. Always 1.",
		[]string{"endpoint", "reason"}, nil)
	tlsCoversDesc = prometheus.NewDesc("sfbex_tls_cert_covers_name",
		"1 if the endpoint's leaf certificate covers a name clients use (wildcards as TLS matches them), 0 if not.", []string{"endpoint", "name"}, nil)

	certFilesMatchedDesc = prometheus.NewDesc("sfbex_cert_files_matched",
		"Files an SFBEX_CERT_FILES pattern matches.", []string{"pattern"}, nil)
)

// certSeries remembers the certificate label sets of one result: two
// certificates of one source with the same role, CN and serial (a
// cross-signed pair, a broken chain) must not make the scrape fail with a
// duplicate series, so the second is left out.
type certSeries map[[5]string]bool

func (seen certSeries) appendCert(ms []prometheus.Metric, kind, source, role string, c *Cert) ([]prometheus.Metric, bool) {
	l := []string{kind, source, role, probes.Clip(c.SubjectCN), c.Serial}
	key := [5]string(l)
	if seen[key] {
		return ms, false
	}
	seen[key] = true
	return append(ms,
		probes.Gauge(certNotAfterDesc, float64(c.NotAfter.Unix()), l...),
		probes.Gauge(certNotBeforeDesc, float64(c.NotBefore.Unix()), l...),
		probes.Gauge(certKeyBitsDesc, float64(c.KeyBits), l...),
		probes.Gauge(certInfoDesc, 1, append(l, probes.Clip(c.IssuerCN), c.Thumbprint, c.KeyAlgorithm, boolLabel(c.SelfSigned))...),
	), true
}

func appendSource(ms []prometheus.Metric, kind, source string, up, stale bool, at int64) []prometheus.Metric {
	ms = append(ms,
		probes.Gauge(certSourceUpDesc, probes.Bool(up), kind, source),
		probes.Gauge(certSourceStaleDesc, probes.Bool(stale), kind, source),
	)
	if at > 0 {
		ms = append(ms, probes.Gauge(certSourceCheckedDesc, float64(at), kind, source))
	}
	return ms
}

func (r *OAuthResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	seen := certSeries{}
	for i := range r.Documents {
		d := &r.Documents[i]
		var at int64
		if d.Known {
			at = d.FetchedAt.Unix()
		}
		ms = appendSource(ms, "oauth", d.URL, d.Up, d.Stale, at)
		if !d.Known {
			continue
		}
		ms = append(ms,
			probes.Gauge(oauthInfoDesc, 1, d.URL, string(d.Server), probes.Clip(d.Realm), probes.Clip(d.Issuer), probes.Clip(d.ServiceName)),
			probes.Gauge(oauthNextDesc, probes.Bool(d.NextPresent), d.URL),
			probes.Gauge(oauthSigningDesc, float64(len(d.Certs)), d.URL),
		)
		for j := range d.Certs {
			c := &d.Certs[j]
			var ok bool
			if ms, ok = seen.appendCert(ms, "oauth", d.URL, c.Role, &c.Cert); !ok {
				continue
			}
			l := []string{"oauth", d.URL, c.Role, probes.Clip(c.SubjectCN), c.Serial}
			if c.SubjectHasSIPDomain != nil {
				ms = append(ms, probes.Gauge(certSIPDomainDesc, probes.Bool(*c.SubjectHasSIPDomain), l...))
			}
			if c.X5TMatches != nil {
				ms = append(ms, probes.Gauge(certX5TDesc, probes.Bool(*c.X5TMatches), l...))
			}
		}
	}
	if r.PoolsConsistent != nil {
		ms = append(ms, probes.Gauge(oauthPoolsDesc, probes.Bool(*r.PoolsConsistent)))
	}
	return ms
}

func (r *TLSResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	seen := certSeries{}
	for i := range r.Endpoints {
		er := &r.Endpoints[i]
		var at int64
		if er.Known {
			at = er.CheckedAt.Unix()
		}
		ms = appendSource(ms, "tls", er.Endpoint, er.Up, er.Stale, at)
		for _, o := range er.Origins {
			ms = append(ms, probes.Gauge(tlsEndpointDesc, 1, er.Endpoint, o.Service, o.Domain))
		}
		if !er.Known {
			continue
		}
		ms = append(ms,
			probes.Gauge(tlsVerifyOKDesc, probes.Bool(er.Verify.OK), er.Endpoint),
			probes.Gauge(tlsVerifyResultDesc, 1, er.Endpoint, er.Verify.Reason),
		)
		for _, n := range er.Names {
			ms = append(ms, probes.Gauge(tlsCoversDesc, probes.Bool(n.Covered), er.Endpoint, n.Name))
		}
		for j := range er.Chain {
			ms, _ = seen.appendCert(ms, "tls", er.Endpoint, er.Chain[j].Role, &er.Chain[j].Cert)
		}
	}
	return ms
}

func (r *FilesResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	seen := certSeries{}
	for _, p := range r.Patterns {
		ms = append(ms, probes.Gauge(certFilesMatchedDesc, float64(p.Matched), p.Pattern))
	}
	for i := range r.Files {
		f := &r.Files[i]
		var at int64
		if f.Known {
			at = f.ReadAt.Unix()
		}
		ms = appendSource(ms, "file", f.Path, f.Up, f.Stale, at)
		for j := range f.Certs {
			ms, _ = seen.appendCert(ms, "file", f.Path, f.Certs[j].Role, &f.Certs[j].Cert)
		}
	}
	return ms
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
