package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/sip"
)

// TestLabSIP runs the SIP family as the agent would, from the lab's own
// configuration, and checks that the healthy lab answers everywhere and
// that each SIP fault shows as its own outcome.
func TestLabSIP(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	src := config.Map(l.Env(2 * time.Second))
	e, err := estate.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	web, err := webclient.Load(src, "sfbex_exporter/test")
	if err != nil {
		t.Fatal(err)
	}
	checks, err := sip.Family.Checks(&probes.Env{Vars: src, Estate: e, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	byService := map[string]*probes.Check{}
	for _, c := range checks {
		byService[c.Target] = c
	}
	if len(checks) != 3 || byService["federation"] == nil || byService["clients"] == nil || byService["internal"] == nil {
		t.Fatalf("checks %v", checks)
	}
	run := func(service string) sip.TargetResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), byService[service].Timeout)
		defer cancel()
		r, _ := byService[service].Run(ctx)
		res := r.(*sip.Result)
		if len(res.Targets) != 1 {
			t.Fatalf("%s targets %+v, notes %v", service, res.Targets, res.Notes)
		}
		return res.Targets[0]
	}

	want := map[string]string{"federation": "sip.contoso.test:5061", "clients": "sip.contoso.test:443", "internal": "pool01.contoso.test:5061"}
	for svc, target := range want {
		tr := run(svc)
		if tr.Target != target || tr.Outcome != sip.Answered || tr.Answer.Status != 200 || tr.Answer.Server != "RTC/7.0" || !tr.TLS.VerifyOK {
			t.Fatalf("healthy %s: %+v %+v %+v", svc, tr, tr.Answer, tr.TLS)
		}
		if fed := svc == "federation"; tr.TLS.ClientCertRequested != fed || tr.TLS.ClientCertSent != fed {
			t.Fatalf("%s: client certificate asked %v, sent %v", svc, tr.TLS.ClientCertRequested, tr.TLS.ClientCertSent)
		}
	}

	for _, tc := range []struct {
		fault, service string
		check          func(sip.TargetResult) bool
	}{
		{"sip-edge-stopped", "federation", func(tr sip.TargetResult) bool { return tr.Outcome == sip.Closed && tr.Stale && tr.TLS.VerifyOK }},
		{"sip-edge-stopped", "clients", func(tr sip.TargetResult) bool { return tr.Outcome == sip.Closed }},
		{"sip-edge-stopped", "internal", func(tr sip.TargetResult) bool { return tr.Outcome == sip.Answered }},
		{"sip-federation-403", "federation", func(tr sip.TargetResult) bool {
			return tr.Answer.Status == 403 && tr.Answer.Diagnostics != nil && strings.Contains(tr.Answer.Diagnostics.Reason, "Federation is not allowed")
		}},
		{"sip-federation-403", "clients", func(tr sip.TargetResult) bool { return tr.Answer.Status == 200 }},
		{"sip-federation-504", "federation", func(tr sip.TargetResult) bool {
			return tr.Answer.Status == 504 && tr.Answer.Diagnostics != nil && tr.Answer.Diagnostics.Code == 1034
		}},
		{"sip-federation-cert-no-name", "federation", func(tr sip.TargetResult) bool {
			return tr.Outcome == sip.Answered && !tr.TLS.VerifyOK && tr.TLS.VerifyReason == "name_mismatch" && tr.TLS.LeafSubject == "edge01.contoso.test"
		}},
		{"sip-federation-cert-no-name", "clients", func(tr sip.TargetResult) bool { return tr.TLS.VerifyOK }},
	} {
		if err := l.Set(tc.fault, true); err != nil {
			t.Fatal(err)
		}
		if tr := run(tc.service); !tc.check(tr) {
			t.Errorf("%s, %s: %+v answer %+v tls %+v", tc.fault, tc.service, tr, tr.Answer, tr.TLS)
		}
		if err := l.Set(tc.fault, false); err != nil {
			t.Fatal(err)
		}
	}
}
