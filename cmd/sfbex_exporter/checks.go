package main

import (
	"slices"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// buildChecks turns the settings into the checks the scheduler runs. Each
// probe family adds its checks here.
func buildChecks(s *Settings) ([]*probes.Check, error) {
	var checks []*probes.Check
	for _, d := range s.allDomains() {
		p, err := dns.NewProber(dns.Config{
			Domain:       d,
			SIP:          slices.Contains(s.SIPDomains, d),
			Email:        slices.Contains(s.EmailDomains, d),
			Lync:         s.Lync,
			Exchange:     s.Exchange,
			Cloud:        s.Cloud,
			Resolvers:    s.Resolvers,
			Expect:       s.Expect,
			AgreeRecord:  s.Agree,
			Skip:         s.Skip,
			QueryTimeout: s.DNSQueryTimeout,
			// Strict unless the admin's client policy relaxes it.
			LaxDomainMatching: !s.DNSStrictDomainMatch,
		})
		if err != nil {
			return nil, err
		}
		checks = append(checks, &probes.Check{
			Probe: "dns", Target: d, Interval: s.DNSInterval, Timeout: s.DNSTimeout, Run: p.Probe,
		})
	}
	cc, err := certChecks(s)
	if err != nil {
		return nil, err
	}
	checks = append(checks, cc...)
	checks = append(checks, httpChecks(s)...)
	mc, err := cmsChecks(s)
	if err != nil {
		return nil, err
	}
	checks = append(checks, mc...)
	dc, err := directoryChecks(s)
	if err != nil {
		return nil, err
	}
	checks = append(checks, dc...)
	return checks, nil
}
