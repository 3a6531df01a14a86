package ews

import (
	"context"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Family probes EWS at the URLs the admin lists, one check per URL. (EWS at
// the URLs autodiscover returns is checked by the autodiscover family,
// which learns them.)
var Family = probes.Family{Name: "ews", Vars: &Vars{}, Checks: Checks}

// Vars are the EWS family's variables
// (docs/configuration.md#autodiscover-lync-autodiscover-and-ews).
type Vars struct {
	URLs        []string `env:"SFBEX_EWS_URLS"`
	ExpectOAuth bool     `env:"SFBEX_EWS_EXPECT_OAUTH, default=true"`
}

// Checks builds one check per configured URL.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	cfg := Config{ExpectOAuth: v.ExpectOAuth, Web: &env.Web.Options, RequestTimeout: env.Web.RequestTimeout, MaxBody: env.Web.MaxBody}
	var checks []*probes.Check
	var seen []string
	for _, u := range config.Items(v.URLs) {
		if _, err := config.HTTPSURL("SFBEX_EWS_URLS", u, "https://mail.contoso.com/EWS/Exchange.asmx"); err != nil {
			return nil, config.InvalidItem("SFBEX_EWS_URLS", u, "an https URL", "https://mail.contoso.com/EWS/Exchange.asmx")
		}
		if containsFold(seen, u) {
			continue
		}
		seen = append(seen, u)
		checks = append(checks, &probes.Check{Probe: "ews", Target: u, Interval: env.Web.Interval, Timeout: env.Web.Timeout,
			Run: func(ctx context.Context) (probes.Result, error) { return ProbeURL(ctx, cfg, u) }})
	}
	return checks, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
