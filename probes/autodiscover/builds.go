package autodiscover

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes"
)

// ExchangeBuild is the Exchange build one autodiscover answer showed
// (SOAP ServerVersionInfo, POX ServerVersion), and its product.
type ExchangeBuild struct {
	Protocol string          `json:"protocol"`
	Server   string          `json:"server"` // the host that answered
	Build    string          `json:"build"`
	Product  support.Product `json:"-"`
	Known    bool            `json:"known"` // the lifecycle table has its product
}

// Builds lists the builds the run's authenticated requests showed. Only
// Exchange on-premises answers are judged: Exchange Online reports its own
// builds, which no admin can upgrade.
func (r *Result) Builds() []ExchangeBuild {
	var out []ExchangeBuild
	for _, rr := range r.Requests {
		if rr.ExchangeVersion == "" || rr.Unfinished {
			continue
		}
		u := rr.Attempt.FinalURL
		if u == "" {
			u = rr.Attempt.URL
		}
		host := ""
		if pu, err := url.Parse(u); err == nil {
			host = strings.ToLower(pu.Hostname())
		}
		b := ExchangeBuild{Protocol: rr.Protocol, Server: host, Build: rr.ExchangeVersion}
		if v, err := support.Parse(rr.ExchangeVersion); err == nil {
			b.Product, b.Known = support.Identify(support.Exchange, v)
		}
		out = append(out, b)
	}
	return out
}

// judgeBuilds adds a warning per server running an Exchange product out
// of support at now (docs/lifecycle.md).
func judgeBuilds(res *Result, now time.Time, add func(sev probes.Severity, subject, problem, fix string)) {
	seen := map[string]bool{}
	for _, b := range res.Builds() {
		if !b.Known || b.Product.Supported(now) || seen[b.Server+b.Product.ID] || estate.IsOnlineHost(b.Server) {
			continue
		}
		seen[b.Server+b.Product.ID] = true
		add(probes.Warning, "Exchange behind "+b.Server,
			fmt.Sprintf("runs %s (build %s, from the %s autodiscover answer), out of support since %s: no security updates",
				b.Product.Name, b.Build, strings.ToUpper(b.Protocol), b.Product.EndOfSupport.Format(time.DateOnly)),
			"Move to Exchange Server Subscription Edition (15.2.2562 or later); docs/lifecycle.md lists the products and their support dates.")
	}
}
