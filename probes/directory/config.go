package directory

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Family scans Active Directory for the SIP attributes of every user: one
// check, when SFBEX_LDAP_URL is set.
var Family = probes.Family{Name: "directory", Vars: &Vars{}, Checks: Checks}

// Vars are the directory family's variables (docs/configuration.md#directory).
type Vars struct {
	URL         string        `env:"SFBEX_LDAP_URL"`
	StartTLS    bool          `env:"SFBEX_LDAP_STARTTLS, default=true"`
	BindDN      string        `env:"SFBEX_LDAP_BIND_DN"`
	Password    config.Secret `env:"SFBEX_LDAP_PASSWORD"`
	Auth        string        `env:"SFBEX_LDAP_AUTH, default=simple"`
	BaseDN      string        `env:"SFBEX_LDAP_BASE_DN"`
	Filter      string        `env:"SFBEX_LDAP_FILTER"`
	Disabled    string        `env:"SFBEX_LDAP_DISABLED_ACCOUNTS, default=exclude"`
	PageSize    int           `env:"SFBEX_LDAP_PAGE_SIZE, default=1000"`
	MinCoverage float64       `env:"SFBEX_LDAP_MIN_COVERAGE_RATIO, default=0.95"`
	Interval    time.Duration `env:"SFBEX_LDAP_INTERVAL, default=15m"`
	Timeout     time.Duration `env:"SFBEX_LDAP_TIMEOUT, default=5m"`
}

// Checks builds the directory scan, if SFBEX_LDAP_URL is set.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(v.URL)
	if raw == "" {
		return nil, nil
	}
	cfg, err := v.config(raw)
	if err != nil {
		return nil, err
	}
	cfg.SIPDomains, cfg.Web = env.Estate.SIPDomains, &env.Web.Options
	if err := config.Schedule("SFBEX_LDAP", v.Interval, v.Timeout); err != nil {
		return nil, err
	}
	p, err := NewProber(cfg)
	if err != nil {
		return nil, fmt.Errorf("SFBEX_LDAP_*: %v", err)
	}
	return []*probes.Check{{Probe: "directory", Target: cfg.URL + "/" + cfg.BaseDN, Interval: v.Interval, Timeout: v.Timeout, Run: p.Probe}}, nil
}

func (v *Vars) config(raw string) (Config, error) {
	cfg, err := v.server(raw)
	if err != nil {
		return cfg, err
	}
	if err := v.bind(&cfg); err != nil {
		return cfg, err
	}
	return cfg, v.scan(&cfg)
}

// server checks where the directory is and where the users are.
func (v *Vars) server(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" || !config.IsHost(u.Hostname()) || u.User != nil || (u.Path != "" && u.Path != "/") {
		return Config{}, config.Invalid("SFBEX_LDAP_URL", raw, "ldap://host[:port] or ldaps://host[:port]", "ldap://dc01.contoso.com (StartTLS) or ldaps://dc01.contoso.com:636")
	}
	cfg := Config{
		URL: u.Scheme + "://" + strings.ToLower(u.Host), StartTLS: v.StartTLS && u.Scheme == "ldap",
		BaseDN: strings.TrimSpace(v.BaseDN), Filter: strings.TrimSpace(v.Filter),
		PageSize: v.PageSize, MinCoverage: v.MinCoverage, SampleSize: 10,
	}
	if cfg.BaseDN == "" {
		return cfg, fmt.Errorf("SFBEX_LDAP_BASE_DN is not set but SFBEX_LDAP_URL is: name where the users are; e.g. SFBEX_LDAP_BASE_DN=DC=contoso,DC=com")
	}
	if _, err := ldap.ParseDN(cfg.BaseDN); err != nil {
		return cfg, config.Invalid("SFBEX_LDAP_BASE_DN", cfg.BaseDN, fmt.Sprintf("a DN (%v)", err), "DC=contoso,DC=com")
	}
	return cfg, nil
}

// bind checks the service account and how it signs in.
func (v *Vars) bind(cfg *Config) error {
	cfg.BindDN, cfg.Password = strings.TrimSpace(v.BindDN), v.Password
	if cfg.BindDN == "" && v.Password.IsSet() {
		return fmt.Errorf("SFBEX_LDAP_PASSWORD is set without SFBEX_LDAP_BIND_DN; e.g. SFBEX_LDAP_BIND_DN=svc-sfbex@contoso.com")
	}
	if cfg.BindDN != "" && !v.Password.IsSet() {
		return fmt.Errorf("SFBEX_LDAP_BIND_DN=%q has no password: set SFBEX_LDAP_PASSWORD or SFBEX_LDAP_PASSWORD_FILE, e.g. SFBEX_LDAP_PASSWORD_FILE=/run/secrets/ldap-password", cfg.BindDN)
	}
	auth, err := config.Choice("SFBEX_LDAP_AUTH", v.Auth, []string{"simple", "ntlm"}, `ntlm with SFBEX_LDAP_BIND_DN=CONTOSO\svc-sfbex`)
	cfg.NTLM = auth == "ntlm"
	return err
}

// scan checks which users are read and how.
func (v *Vars) scan(cfg *Config) error {
	if cfg.Filter != "" {
		if _, err := ldap.CompileFilter(cfg.Filter); err != nil {
			return config.Invalid("SFBEX_LDAP_FILTER", cfg.Filter, fmt.Sprintf("an LDAP filter (%v)", err), DefaultFilter)
		}
	}
	disabled, err := config.Choice("SFBEX_LDAP_DISABLED_ACCOUNTS", v.Disabled, []string{"exclude", "include"}, "include for a server without AD's bit-and rule")
	if err != nil {
		return err
	}
	cfg.IncludeDisabled = disabled == "include"
	if err := config.Range("SFBEX_LDAP_PAGE_SIZE", v.PageSize, 1, 1000, "1000 (AD's MaxPageSize)"); err != nil {
		return err
	}
	return config.Ratio("SFBEX_LDAP_MIN_COVERAGE_RATIO", v.MinCoverage, "0.95")
}
