package main

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
)

// HTTPSettings configure the Exchange autodiscover, Lync autodiscover and
// EWS checks.
type HTTPSettings struct {
	Interval, Timeout, RequestTimeout time.Duration
	MaxBody                           int64
	// Credentials of the probe account; nil: no authenticated requests,
	// and EWS URLs come from SFBEX_EWS_URLS only.
	Credentials   *httpprobe.Credentials
	Mailbox       string
	RedirectHosts []string
	SFBURL        string
	LyncViews     []autodiscover.View
	EWSURLs       []string
	ExpectOAuth   bool
}

func (s *Settings) httpSettings(c *Config) error {
	h := &s.HTTP
	for _, d := range []struct {
		name string
		v    time.Duration
		eg   string
	}{{"SFBEX_HTTP_INTERVAL", c.HTTPInterval, "1m"}, {"SFBEX_HTTP_TIMEOUT", c.HTTPTimeout, "30s"}, {"SFBEX_HTTP_REQUEST_TIMEOUT", c.HTTPRequestTimeout, "10s"}} {
		if d.v <= 0 {
			return fmt.Errorf("%s=%s must be positive; e.g. %s=%s", d.name, d.v, d.name, d.eg)
		}
	}
	if c.HTTPTimeout > c.HTTPInterval {
		return fmt.Errorf("SFBEX_HTTP_TIMEOUT=%s is longer than SFBEX_HTTP_INTERVAL=%s: runs would overlap; e.g. SFBEX_HTTP_TIMEOUT=30s", c.HTTPTimeout, c.HTTPInterval)
	}
	if c.HTTPRequestTimeout > c.HTTPTimeout {
		return fmt.Errorf("SFBEX_HTTP_REQUEST_TIMEOUT=%s is longer than SFBEX_HTTP_TIMEOUT=%s, which bounds a whole run of several requests; e.g. SFBEX_HTTP_REQUEST_TIMEOUT=10s", c.HTTPRequestTimeout, c.HTTPTimeout)
	}
	h.Interval, h.Timeout, h.RequestTimeout = c.HTTPInterval, c.HTTPTimeout, c.HTTPRequestTimeout
	if c.HTTPMaxBodyBytes < 4096 || c.HTTPMaxBodyBytes > 64<<20 {
		return fmt.Errorf("SFBEX_HTTP_MAX_BODY_BYTES=%d must be from 4096 to 67108864; e.g. SFBEX_HTTP_MAX_BODY_BYTES=1048576", c.HTTPMaxBodyBytes)
	}
	h.MaxBody = c.HTTPMaxBodyBytes
	if c.HTTPMaxRedirects < 1 || c.HTTPMaxRedirects > 20 {
		return fmt.Errorf("SFBEX_HTTP_MAX_REDIRECTS=%d must be from 1 to 20; e.g. SFBEX_HTTP_MAX_REDIRECTS=5", c.HTTPMaxRedirects)
	}
	s.Web.MaxRedirects = c.HTTPMaxRedirects

	if err := h.credentials(c); err != nil {
		return err
	}
	for _, r := range c.AutodiscoverRedirectHosts {
		r = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r)), ".")
		if r == "" {
			continue
		}
		if !isHostName(r) {
			return fmt.Errorf("SFBEX_AUTODISCOVER_REDIRECT_HOSTS: %q is not a host name; e.g. SFBEX_AUTODISCOVER_REDIRECT_HOSTS=autodiscover.fabrikam.com", r)
		}
		h.RedirectHosts = append(h.RedirectHosts, r)
	}
	if v := strings.TrimSpace(c.SFBExchangeAutodiscoverURL); v != "" {
		if !isHTTPSURL(v) {
			return fmt.Errorf("SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL=%q is not an https URL; copy ExchangeAutodiscoverUrl from Get-CsOAuthConfiguration, e.g. SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL=https://autodiscover.contoso.com/autodiscover/autodiscover.svc", v)
		}
		h.SFBURL = v
	}
	for _, v := range c.LyncdiscoverViews {
		if v = strings.TrimSpace(v); v == "" || v == "none" {
			continue
		}
		view, err := autodiscover.ParseView(v)
		if err != nil {
			return fmt.Errorf("SFBEX_LYNCDISCOVER_VIEWS: %v, or none; e.g. SFBEX_LYNCDISCOVER_VIEWS=internal,external", err)
		}
		if !slices.Contains(h.LyncViews, view) {
			h.LyncViews = append(h.LyncViews, view)
		}
	}
	if c.LyncdiscoverViews == nil {
		// lyncdiscover always; lyncdiscoverinternal where the agent sees
		// the internal view of an on-premises (or hybrid) deployment.
		h.LyncViews = []autodiscover.View{autodiscover.External}
		if s.Lync != estate.Online && slices.ContainsFunc(s.Resolvers, func(r estate.Resolver) bool { return r.Internal }) {
			h.LyncViews = []autodiscover.View{autodiscover.Internal, autodiscover.External}
		}
	}
	for _, u := range c.EWSURLs {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if !isHTTPSURL(u) {
			return fmt.Errorf("SFBEX_EWS_URLS: %q is not an https URL; e.g. SFBEX_EWS_URLS=https://mail.contoso.com/EWS/Exchange.asmx", u)
		}
		if !slices.ContainsFunc(h.EWSURLs, func(x string) bool { return strings.EqualFold(x, u) }) {
			h.EWSURLs = append(h.EWSURLs, u)
		}
	}
	h.ExpectOAuth = c.EWSExpectOAuth
	return nil
}

// credentials checks the probe account. Errors never show the password.
func (h *HTTPSettings) credentials(c *Config) error {
	user, mailbox := strings.TrimSpace(c.AutodiscoverUser), strings.TrimSpace(c.AutodiscoverMailbox)
	// Quoted by hand: %q would double the backslash of DOMAIN\user.
	shown := `"` + user + `"`
	if strings.ContainsFunc(user, func(r rune) bool { return r < ' ' || r == '"' }) {
		shown = strconv.Quote(user)
	}
	const egPass = "SFBEX_AUTODISCOVER_PASSWORD_FILE=/run/secrets/sfbex_autodiscover_password"
	switch {
	case user != "" && c.AutodiscoverPassword == "":
		return fmt.Errorf("SFBEX_AUTODISCOVER_USER=%s is set but SFBEX_AUTODISCOVER_PASSWORD is not: give the probe account's password, e.g. %s", shown, egPass)
	case user == "" && c.AutodiscoverPassword != "":
		return fmt.Errorf("SFBEX_AUTODISCOVER_PASSWORD is set but SFBEX_AUTODISCOVER_USER is not: name the probe account, e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com")
	case user == "" && mailbox != "":
		return fmt.Errorf("SFBEX_AUTODISCOVER_MAILBOX=%q needs SFBEX_AUTODISCOVER_USER and SFBEX_AUTODISCOVER_PASSWORD to sign in with, e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com", mailbox)
	case user == "":
		return nil
	}
	domain, name, isDown := strings.Cut(user, `\`)
	if !(isDown && domain != "" && name != "" && !strings.ContainsAny(name, `\@`)) && !isEmail(user) {
		return fmt.Errorf(`SFBEX_AUTODISCOVER_USER=%s is neither user@domain nor DOMAIN\user; e.g. SFBEX_AUTODISCOVER_USER=sfbex-probe@contoso.com`, shown)
	}
	mode, err := httpprobe.ParseAuthMode(c.AutodiscoverAuth)
	if err != nil {
		return fmt.Errorf("SFBEX_AUTODISCOVER_AUTH: %v; e.g. SFBEX_AUTODISCOVER_AUTH=ntlm", err)
	}
	if mailbox == "" && isEmail(user) {
		mailbox = user
	}
	switch {
	case mailbox == "":
		return fmt.Errorf("SFBEX_AUTODISCOVER_USER=%s is not an email address: set SFBEX_AUTODISCOVER_MAILBOX to the probe mailbox's primary SMTP address, e.g. SFBEX_AUTODISCOVER_MAILBOX=sfbex-probe@contoso.com", shown)
	case !isEmail(mailbox):
		return fmt.Errorf("SFBEX_AUTODISCOVER_MAILBOX=%q is not an email address; e.g. SFBEX_AUTODISCOVER_MAILBOX=sfbex-probe@contoso.com", mailbox)
	}
	h.Credentials = httpprobe.NewCredentials(user, c.AutodiscoverPassword, mode)
	h.Mailbox = mailbox
	return nil
}

func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.ContainsAny(local, " \t<>\"") && isHostName(strings.ToLower(domain))
}

func isHostName(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) < 2 || len(h) > 253 {
		return false
	}
	for _, l := range labels {
		if len(l) > 63 || !hostLabelRe.MatchString(l) {
			return false
		}
	}
	return true
}

func isHTTPSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Hostname() != "" && u.User == nil
}
