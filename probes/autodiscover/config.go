package autodiscover

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/ews"
)

// Family finds Exchange and Skype for Business the way clients do, and the
// web services they find: Exchange autodiscover per email domain (with
// Skype for Business' ExchangeAutodiscoverUrl on the domain it names), Lync
// autodiscover per SIP domain, and EWS (probes/ews) at the URLs the admin
// lists and, with a probe account, at those each domain's autodiscover
// returns.
var Family = probes.Family{Name: "autodiscover", Vars: &Vars{}, Checks: Checks}

// Vars are the autodiscover family's variables
// (docs/configuration.md#autodiscover-lync-autodiscover-and-ews).
type Vars struct {
	Exchange       bool          `env:"SFBEX_AUTODISCOVER_EXCHANGE, default=true"`
	User           string        `env:"SFBEX_AUTODISCOVER_USER"`
	Password       config.Secret `env:"SFBEX_AUTODISCOVER_PASSWORD"`
	Mailbox        string        `env:"SFBEX_AUTODISCOVER_MAILBOX"`
	Auth           string        `env:"SFBEX_AUTODISCOVER_AUTH, default=auto"`
	RedirectHosts  []string      `env:"SFBEX_AUTODISCOVER_REDIRECT_HOSTS"`
	SFBURL         string        `env:"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL"`
	LyncViews      []string      `env:"SFBEX_LYNCDISCOVER_VIEWS"`
	EWSURLs        []string      `env:"SFBEX_EWS_URLS"`
	EWSExpectOAuth bool          `env:"SFBEX_EWS_EXPECT_OAUTH, default=true"`
}

type settings struct {
	exchange      bool                   // an Exchange autodiscover check per email domain
	credentials   *httpprobe.Credentials // nil: no authenticated requests
	mailbox       string
	redirectHosts []string
	sfbURL        string
	lyncViews     []View
	ewsURLs       []string
	expectOAuth   bool
}

func load(env *probes.Env) (*settings, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	s := &settings{expectOAuth: v.EWSExpectOAuth, exchange: v.Exchange}
	var err error
	if s.credentials, s.mailbox, err = credentials(&v); err != nil {
		return nil, err
	}
	if s.redirectHosts, err = config.HostNames("SFBEX_AUTODISCOVER_REDIRECT_HOSTS", v.RedirectHosts, "autodiscover.fabrikam.com"); err != nil {
		return nil, err
	}
	if u := strings.TrimSpace(v.SFBURL); u != "" {
		if _, err := config.HTTPSURL("SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL", u, "https://autodiscover.contoso.com/autodiscover/autodiscover.svc"); err != nil {
			return nil, fmt.Errorf("%w (copy ExchangeAutodiscoverUrl from Get-CsOAuthConfiguration)", err)
		}
		s.sfbURL = u
	}
	for _, name := range config.Items(v.LyncViews) {
		view, err := ParseView(name)
		if err != nil {
			return nil, config.InvalidItem("SFBEX_LYNCDISCOVER_VIEWS", name, "internal, external or none", "internal,external")
		}
		if !slices.Contains(s.lyncViews, view) {
			s.lyncViews = append(s.lyncViews, view)
		}
	}
	for _, u := range config.Items(v.EWSURLs) {
		if _, err := config.HTTPSURL("SFBEX_EWS_URLS", u, ""); err != nil {
			return nil, config.InvalidItem("SFBEX_EWS_URLS", u, "an https URL", "https://mail.contoso.com/EWS/Exchange.asmx")
		}
		if !slices.ContainsFunc(s.ewsURLs, func(x string) bool { return strings.EqualFold(x, u) }) {
			s.ewsURLs = append(s.ewsURLs, u)
		}
	}
	if v.LyncViews == nil {
		// lyncdiscover always; lyncdiscoverinternal where the agent sees
		// the internal view of an on-premises (or hybrid) deployment.
		s.lyncViews = DefaultViews(env)
	}
	return s, nil
}

// DefaultViews are the Lync autodiscover views checked unless
// SFBEX_LYNCDISCOVER_VIEWS says otherwise.
func DefaultViews(env *probes.Env) []View {
	if !env.Estate.Lync.InCloud() && env.Estate.HasInternalView() {
		return []View{Internal, External}
	}
	return []View{External}
}

// credentials checks the probe account. Errors never show the password.
func credentials(v *Vars) (*httpprobe.Credentials, string, error) {
	user, mailbox := strings.TrimSpace(v.User), strings.TrimSpace(v.Mailbox)
	// Quoted by hand: %q would double the backslash of DOMAIN\user.
	shown := `"` + user + `"`
	if strings.ContainsFunc(user, func(r rune) bool { return r < ' ' || r == '"' }) {
		shown = strconv.Quote(user)
	}
	if err := accountComplete(user, shown, mailbox, v.Password.IsSet()); err != nil || user == "" {
		return nil, "", err
	}
	domain, name, isDown := strings.Cut(user, `\`)
	if !(isDown && domain != "" && name != "" && !strings.ContainsAny(name, `\@`)) && !config.IsEmail(user) {
		return nil, "", fmt.Errorf(`SFBEX_AUTODISCOVER_USER=%s is neither user@domain nor DOMAIN\user; e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com`, shown)
	}
	mode, err := httpprobe.ParseAuthMode(v.Auth)
	if err != nil {
		return nil, "", fmt.Errorf("SFBEX_AUTODISCOVER_AUTH: %v; e.g. SFBEX_AUTODISCOVER_AUTH=ntlm", err)
	}
	if mailbox == "" && config.IsEmail(user) {
		mailbox = user
	}
	switch {
	case mailbox == "":
		return nil, "", fmt.Errorf("SFBEX_AUTODISCOVER_USER=%s is not an email address: set SFBEX_AUTODISCOVER_MAILBOX to the probe mailbox's primary SMTP address, e.g. SFBEX_AUTODISCOVER_MAILBOX=sfbex-probe@contoso.com", shown)
	case !config.IsEmail(mailbox):
		return nil, "", config.Invalid("SFBEX_AUTODISCOVER_MAILBOX", mailbox, "an email address", "sfbex-probe@contoso.com")
	}
	return httpprobe.NewCredentials(user, v.Password.Reveal(), mode), mailbox, nil
}

// accountComplete checks that the account's parts come together: a user
// with a password, a mailbox only with an account to sign in with.
func accountComplete(user, shown, mailbox string, password bool) error {
	const egPass = "SFBEX_AUTODISCOVER_PASSWORD_FILE=/run/secrets/sfbex_autodiscover_password"
	switch {
	case user != "" && !password:
		return fmt.Errorf("SFBEX_AUTODISCOVER_USER=%s is set but SFBEX_AUTODISCOVER_PASSWORD is not: give the probe account's password, e.g. %s", shown, egPass)
	case user == "" && password:
		return fmt.Errorf("SFBEX_AUTODISCOVER_PASSWORD is set but SFBEX_AUTODISCOVER_USER is not: name the probe account, e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com")
	case user == "" && mailbox != "":
		return fmt.Errorf("SFBEX_AUTODISCOVER_MAILBOX=%q needs SFBEX_AUTODISCOVER_USER and SFBEX_AUTODISCOVER_PASSWORD to sign in with, e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com", mailbox)
	}
	return nil
}

// Checks builds Exchange autodiscover per email domain, Lync autodiscover
// per SIP domain, EWS per configured URL and, with a probe account, EWS per
// email domain over the URLs its autodiscover returns.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	s, err := load(env)
	if err != nil {
		return nil, err
	}
	web, e := env.Web, env.Estate
	newCheck := func(probe, target string, run func(context.Context) (probes.Result, error)) *probes.Check {
		return &probes.Check{Probe: probe, Target: target, Interval: web.Interval, Timeout: web.Timeout, Run: run}
	}
	ewsCfg := ews.Config{ExpectOAuth: s.expectOAuth, Web: &web.Options, RequestTimeout: web.RequestTimeout, MaxBody: web.MaxBody, Credentials: s.credentials}
	sfbDomain := SFBURLDomain(s.sfbURL, e.EmailDomains)

	var checks, ewsChecks []*probes.Check
	for _, d := range e.EmailDomains {
		if !s.exchange {
			break // and no EWS learned from it
		}
		cfg := Config{
			Domain: d, Exchange: e.Exchange, Resolvers: e.Resolvers, QueryTimeout: e.QueryTimeout,
			Web: &web.Options, RequestTimeout: web.RequestTimeout, MaxBody: web.MaxBody, RedirectHosts: s.redirectHosts,
			Credentials: s.credentials, Mailbox: s.mailbox,
		}
		if d == sfbDomain {
			cfg.SFBURL = s.sfbURL
		}
		p := NewProber(cfg)
		checks = append(checks, newCheck("autodiscover", d, p.Probe))
		if s.credentials != nil {
			l := &ews.Learned{Domain: d, Config: ewsCfg, Source: p.EWSURLs}
			ewsChecks = append(ewsChecks, newCheck("ews", d, l.Probe))
		}
	}
	for _, d := range e.SIPDomains {
		if len(s.lyncViews) == 0 {
			break
		}
		cfg := LyncConfig{Domain: d, Views: s.lyncViews, Web: &web.Options, RequestTimeout: web.RequestTimeout, MaxBody: web.MaxBody}
		checks = append(checks, newCheck("lyncdiscover", d, func(ctx context.Context) (probes.Result, error) {
			return ProbeLync(ctx, cfg)
		}))
	}
	for _, u := range s.ewsURLs {
		checks = append(checks, newCheck("ews", u, func(ctx context.Context) (probes.Result, error) {
			return ews.ProbeURL(ctx, ewsCfg, u)
		}))
	}
	return append(checks, ewsChecks...), nil
}

// SFBURLDomain picks the email domain whose check carries the Skype for
// Business URL: the most specific one its host lies in, else the first.
func SFBURLDomain(u string, domains []string) string {
	if u == "" || len(domains) == 0 {
		return ""
	}
	pu, err := url.Parse(u)
	if err != nil {
		return domains[0]
	}
	host, best := strings.ToLower(pu.Hostname()), ""
	for _, d := range domains {
		if (host == d || strings.HasSuffix(host, "."+d)) && len(d) > len(best) {
			best = d
		}
	}
	if best == "" {
		return domains[0]
	}
	return best
}
