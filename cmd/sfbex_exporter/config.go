package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	mdns "github.com/miekg/dns"

	"github.com/prometheus/common/version"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// envPrefix starts every variable the agent reads.
const envPrefix = "SFBEX"

// Config is the agent's configuration, read from SFBEX_* environment
// variables. Every variable can instead be read from a file named by
// <NAME>_FILE (Docker and Kubernetes secrets). docs/configuration.md lists
// them all.
type Config struct {
	SIPDomains         []string `envconfig:"SIP_DOMAINS"`
	EmailDomains       []string `envconfig:"EMAIL_DOMAINS"`
	Deployment         string   `envconfig:"DEPLOYMENT" default:"onprem"`
	ExchangeDeployment string   `envconfig:"EXCHANGE_DEPLOYMENT"`
	Cloud              string   `envconfig:"CLOUD" default:"worldwide"`

	DNSResolvers         string        `envconfig:"DNS_RESOLVERS"`
	DNSInternalResolvers []string      `envconfig:"DNS_INTERNAL_RESOLVERS" default:"internal"`
	DNSExpect            string        `envconfig:"DNS_EXPECT"`
	DNSAgreeRecords      []string      `envconfig:"DNS_AGREE_RECORDS"`
	DNSSkipRecords       []string      `envconfig:"DNS_SKIP_RECORDS"`
	DNSInterval          time.Duration `envconfig:"DNS_INTERVAL" default:"1m"`
	DNSTimeout           time.Duration `envconfig:"DNS_TIMEOUT" default:"20s"`
	DNSQueryTimeout      time.Duration `envconfig:"DNS_QUERY_TIMEOUT" default:"2s"`
	DNSStrictDomainMatch bool          `envconfig:"DNS_STRICT_DOMAIN_MATCHING" default:"true"`

	// Shared by every HTTPS and TLS probe.
	CAFile           string   `envconfig:"CA_FILE"`
	ConnectTo        string   `envconfig:"CONNECT_TO"`
	TLSInsecureHosts []string `envconfig:"TLS_INSECURE_HOSTS"`

	// Certificates (probes/certs, certs_config.go).
	ExchangeMetadataURLs []string      `envconfig:"EXCHANGE_METADATA_URLS"`
	SFBMetadataURLs      []string      `envconfig:"SFB_METADATA_URLS"`
	AuthMetadataURLs     []string      `envconfig:"AUTH_METADATA_URLS"`
	TLSEndpoints         []string      `envconfig:"TLS_ENDPOINTS"`
	TLSSkipEndpoints     []string      `envconfig:"TLS_SKIP_ENDPOINTS"`
	CertFiles            []string      `envconfig:"CERT_FILES"`
	CertFilesPassword    string        `envconfig:"CERT_FILES_PASSWORD"`
	CertInterval         time.Duration `envconfig:"CERT_INTERVAL" default:"1h"`
	CertTimeout          time.Duration `envconfig:"CERT_TIMEOUT" default:"30s"`
	CertWarnDays         int           `envconfig:"CERT_WARN_DAYS" default:"30"`
	CertCriticalDays     int           `envconfig:"CERT_CRITICAL_DAYS" default:"14"`
	OAuthRenewDays       int           `envconfig:"OAUTH_RENEW_DAYS" default:"60"`
	OAuthNextMinDays     int           `envconfig:"OAUTH_NEXT_MIN_DAYS" default:"120"`

	// Autodiscover, Lync autodiscover and EWS (http_config.go).
	HTTPInterval               time.Duration `envconfig:"HTTP_INTERVAL" default:"1m"`
	HTTPTimeout                time.Duration `envconfig:"HTTP_TIMEOUT" default:"30s"`
	HTTPRequestTimeout         time.Duration `envconfig:"HTTP_REQUEST_TIMEOUT" default:"10s"`
	HTTPMaxBodyBytes           int64         `envconfig:"HTTP_MAX_BODY_BYTES" default:"1048576"`
	HTTPMaxRedirects           int           `envconfig:"HTTP_MAX_REDIRECTS" default:"5"`
	AutodiscoverUser           string        `envconfig:"AUTODISCOVER_USER"`
	AutodiscoverPassword       string        `envconfig:"AUTODISCOVER_PASSWORD"`
	AutodiscoverMailbox        string        `envconfig:"AUTODISCOVER_MAILBOX"`
	AutodiscoverAuth           string        `envconfig:"AUTODISCOVER_AUTH" default:"auto"`
	AutodiscoverRedirectHosts  []string      `envconfig:"AUTODISCOVER_REDIRECT_HOSTS"`
	SFBExchangeAutodiscoverURL string        `envconfig:"SFB_EXCHANGE_AUTODISCOVER_URL"`
	LyncdiscoverViews          []string      `envconfig:"LYNCDISCOVER_VIEWS"`
	EWSURLs                    []string      `envconfig:"EWS_URLS"`
	EWSExpectOAuth             bool          `envconfig:"EWS_EXPECT_OAUTH" default:"true"`

	// Directory scan (probes/directory, directory_config.go).
	LDAPURL         string        `envconfig:"LDAP_URL"`
	LDAPStartTLS    bool          `envconfig:"LDAP_STARTTLS" default:"true"`
	LDAPBindDN      string        `envconfig:"LDAP_BIND_DN"`
	LDAPPassword    string        `envconfig:"LDAP_PASSWORD"`
	LDAPAuth        string        `envconfig:"LDAP_AUTH" default:"simple"`
	LDAPBaseDN      string        `envconfig:"LDAP_BASE_DN"`
	LDAPFilter      string        `envconfig:"LDAP_FILTER"`
	LDAPDisabled    string        `envconfig:"LDAP_DISABLED_ACCOUNTS" default:"exclude"`
	LDAPPageSize    int           `envconfig:"LDAP_PAGE_SIZE" default:"1000"`
	LDAPMinCoverage float64       `envconfig:"LDAP_MIN_COVERAGE_RATIO" default:"0.95"`
	LDAPInterval    time.Duration `envconfig:"LDAP_INTERVAL" default:"15m"`
	LDAPTimeout     time.Duration `envconfig:"LDAP_TIMEOUT" default:"5m"`

	// CMS snapshots and their upload (probes/cms, cms_config.go).
	CMSSnapshotPath      string        `envconfig:"CMS_SNAPSHOT_PATH"`
	CMSInterval          time.Duration `envconfig:"CMS_INTERVAL" default:"1m"`
	CMSTimeout           time.Duration `envconfig:"CMS_TIMEOUT" default:"30s"`
	CMSSnapshotMaxAge    time.Duration `envconfig:"CMS_SNAPSHOT_MAX_AGE" default:"30m"`
	CMSReplicaStaleAfter time.Duration `envconfig:"CMS_REPLICA_STALE_AFTER" default:"10m"`
	IngestToken          string        `envconfig:"INGEST_TOKEN"`
	IngestMaxBytes       int64         `envconfig:"INGEST_MAX_BYTES" default:"1048576"`

	MaxConcurrentProbes int `envconfig:"MAX_CONCURRENT_PROBES" default:"16"`
}

// Settings is the configuration checked and parsed.
type Settings struct {
	SIPDomains, EmailDomains []string
	Lync, Exchange           estate.Mode
	Cloud                    estate.Cloud
	Resolvers                []estate.Resolver
	Expect                   []dns.Expectation
	Agree                    []string
	Skip                     map[string]bool
	DNSInterval, DNSTimeout  time.Duration
	DNSQueryTimeout          time.Duration
	DNSStrictDomainMatch     bool
	MaxConcurrentProbes      int

	// Web is how every HTTPS and TLS probe connects.
	Web webclient.Options
	// Certs configures the certificate checks (certs_config.go).
	Certs CertSettings
	// HTTP configures the autodiscover, Lync autodiscover and EWS checks
	// (http_config.go).
	HTTP HTTPSettings
	// CMS configures the snapshot checks and upload (cms_config.go).
	CMS CMSSettings
	// Directory configures the directory scan; nil without SFBEX_LDAP_URL
	// (directory_config.go).
	Directory *DirectorySettings
}

// errNothingConfigured is returned when no domain is set.
var errNothingConfigured = errors.New("nothing to monitor: set SFBEX_SIP_DOMAINS (e.g. SFBEX_SIP_DOMAINS=contoso.com), " +
	"and SFBEX_EMAIL_DOMAINS when the email domains differ, or run `sfbex_exporter --lab` to try the agent on its simulated estate; " +
	"see docs/configuration.md")

// LoadSettings reads and checks the configuration from the environment.
func LoadSettings() (*Settings, error) {
	if err := readFileVariables(); err != nil {
		return nil, err
	}
	var c Config
	if err := processEnv(&c); err != nil {
		return nil, explainEnvconfig(err)
	}
	return c.Settings()
}

// processEnv runs envconfig over the SFBEX_* variables alone. envconfig
// would otherwise fall back to the unprefixed name (DEPLOYMENT, CLOUD), which
// belongs to someone else. An empty scalar counts as unset, so templates that
// render "SFBEX_DNS_INTERVAL=" get the default; an empty list stays an empty
// list (SFBEX_EMAIL_DOMAINS= means no email domains).
func processEnv(c *Config) error {
	lists := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if t.Field(i).Type.Kind() == reflect.Slice {
			lists[envPrefix+"_"+t.Field(i).Tag.Get("envconfig")] = true
		}
	}
	saved := os.Environ()
	defer func() {
		os.Clearenv()
		for _, kv := range saved {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}()
	os.Clearenv()
	for _, kv := range saved {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, envPrefix+"_") && (v != "" || lists[k]) {
			os.Setenv(k, v)
		}
	}
	return envconfig.Process(envPrefix, c)
}

// readFileVariables sets each variable X from the file named by X_FILE.
// Setting both is an error, as is a file that cannot be read. As with every
// other variable, an empty X_FILE counts as unset (templates render
// "SFBEX_LDAP_PASSWORD_FILE=" when there is no secret), and so does an empty
// scalar X beside it; an empty list X is a value (an empty list).
func readFileVariables() error {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		name := envPrefix + "_" + t.Field(i).Tag.Get("envconfig")
		path := os.Getenv(name + "_FILE")
		if path == "" {
			continue
		}
		if v, both := os.LookupEnv(name); both && (v != "" || t.Field(i).Type.Kind() == reflect.Slice) {
			return fmt.Errorf("%s and %s_FILE are both set: set only one", name, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s_FILE: cannot read %q (%v): point it at a readable file, e.g. %s_FILE=/run/secrets/%s",
				name, path, errors.Unwrap(err), name, strings.ToLower(name))
		}
		if err := os.Setenv(name, strings.TrimRight(string(b), "\r\n")); err != nil {
			return err
		}
	}
	return nil
}

// explainEnvconfig rewrites envconfig's parse errors to name the variable
// and show a good value.
func explainEnvconfig(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		example := map[string]string{
			"time.Duration": "1m30s", "Duration": "1m30s", "int": "16", "[]string": "a,b", "int64": "1048576", "bool": "true", "float64": "0.95",
		}[pe.TypeName]
		return fmt.Errorf("%s=%q is not a valid %s; e.g. %s=%s", pe.KeyName, pe.Value, pe.TypeName, pe.KeyName, example)
	}
	return err
}

var (
	resolverNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	hostLabelRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// Settings checks c and parses it. Every error names the variable, the bad
// value and a good example.
func (c *Config) Settings() (*Settings, error) {
	s := &Settings{Skip: map[string]bool{}, MaxConcurrentProbes: c.MaxConcurrentProbes}
	var err error
	if s.SIPDomains, err = domains("SFBEX_SIP_DOMAINS", c.SIPDomains); err != nil {
		return nil, err
	}
	if s.EmailDomains, err = domains("SFBEX_EMAIL_DOMAINS", c.EmailDomains); err != nil {
		return nil, err
	}
	if len(s.SIPDomains) == 0 && len(s.EmailDomains) == 0 {
		return nil, errNothingConfigured
	}
	if c.EmailDomains == nil {
		s.EmailDomains = s.SIPDomains
	}
	if s.Lync, err = estate.ParseMode(c.Deployment); err != nil {
		return nil, fmt.Errorf("SFBEX_DEPLOYMENT: %w; e.g. SFBEX_DEPLOYMENT=hybrid", err)
	}
	s.Exchange = s.Lync
	if c.ExchangeDeployment != "" {
		if s.Exchange, err = estate.ParseMode(c.ExchangeDeployment); err != nil {
			return nil, fmt.Errorf("SFBEX_EXCHANGE_DEPLOYMENT: %w; e.g. SFBEX_EXCHANGE_DEPLOYMENT=online", err)
		}
	}
	if s.Cloud, err = estate.ParseCloud(c.Cloud); err != nil {
		return nil, fmt.Errorf("SFBEX_CLOUD: %w; e.g. SFBEX_CLOUD=worldwide", err)
	}
	var internal []string
	for _, n := range c.DNSInternalResolvers {
		if n = strings.TrimSpace(n); n != "" {
			internal = append(internal, n)
		}
	}
	if s.Resolvers, err = resolvers(c.DNSResolvers, internal); err != nil {
		return nil, err
	}
	if _, set := os.LookupEnv("SFBEX_DNS_INTERNAL_RESOLVERS"); set {
		for _, n := range internal {
			if !slices.ContainsFunc(s.Resolvers, func(r estate.Resolver) bool { return r.Name == n }) {
				return nil, fmt.Errorf("SFBEX_DNS_INTERNAL_RESOLVERS: %q is not a resolver named in SFBEX_DNS_RESOLVERS; e.g. SFBEX_DNS_INTERNAL_RESOLVERS=internal with SFBEX_DNS_RESOLVERS=internal=10.0.0.10:53,external=1.1.1.1:53", n)
			}
		}
	}
	for _, r := range c.DNSSkipRecords {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if !slices.Contains(dns.AllRecords, r) {
			return nil, fmt.Errorf("SFBEX_DNS_SKIP_RECORDS: %q is not a record the agent checks; use some of %s", r, strings.Join(dns.AllRecords, ","))
		}
		s.Skip[r] = true
	}
	s.Agree = dns.DefaultAgreeRecords(s.Lync, s.Exchange)
	if c.DNSAgreeRecords != nil {
		s.Agree = nil
		for _, r := range c.DNSAgreeRecords {
			r = strings.TrimSpace(r)
			if r == "" || r == "none" {
				continue
			}
			if !slices.Contains(dns.AllRecords, r) {
				return nil, fmt.Errorf("SFBEX_DNS_AGREE_RECORDS: %q is not a record the agent checks; use some of %s, or none", r, strings.Join(dns.AllRecords, ","))
			}
			s.Agree = append(s.Agree, r)
		}
	}
	if s.Expect, err = dns.ParseExpectations(c.DNSExpect); err != nil {
		return nil, fmt.Errorf("SFBEX_DNS_EXPECT: %w", err)
	}
	if err := s.checkExpectations(); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		eg   string
	}{{"SFBEX_DNS_INTERVAL", c.DNSInterval, "1m"}, {"SFBEX_DNS_TIMEOUT", c.DNSTimeout, "20s"}, {"SFBEX_DNS_QUERY_TIMEOUT", c.DNSQueryTimeout, "2s"}} {
		if d.v <= 0 {
			return nil, fmt.Errorf("%s=%s must be positive; e.g. %s=%s", d.name, d.v, d.name, d.eg)
		}
	}
	if c.DNSTimeout > c.DNSInterval {
		return nil, fmt.Errorf("SFBEX_DNS_TIMEOUT=%s is longer than SFBEX_DNS_INTERVAL=%s: runs would overlap; e.g. SFBEX_DNS_TIMEOUT=%s", c.DNSTimeout, c.DNSInterval, c.DNSInterval/2)
	}
	s.DNSInterval, s.DNSTimeout, s.DNSQueryTimeout = c.DNSInterval, c.DNSTimeout, c.DNSQueryTimeout
	s.DNSStrictDomainMatch = c.DNSStrictDomainMatch
	if err := s.webSettings(c); err != nil {
		return nil, err
	}
	if err := s.certSettings(c); err != nil {
		return nil, err
	}
	if err := s.directorySettings(c); err != nil {
		return nil, err
	}
	if err := s.httpSettings(c); err != nil {
		return nil, err
	}
	if err := s.cmsSettings(c); err != nil {
		return nil, err
	}
	if s.MaxConcurrentProbes < 1 {
		return nil, fmt.Errorf("SFBEX_MAX_CONCURRENT_PROBES=%d must be at least 1; e.g. SFBEX_MAX_CONCURRENT_PROBES=16", s.MaxConcurrentProbes)
	}
	return s, nil
}

func (s *Settings) webSettings(c *Config) error {
	s.Web.UserAgent = "sfbex_exporter/" + version.Version
	if c.CAFile != "" {
		pool, err := webclient.LoadCAFile(c.CAFile)
		var cfe *webclient.CAFileError
		if errors.As(err, &cfe) {
			return fmt.Errorf("SFBEX_CA_FILE=%q: %v; %s", c.CAFile, err, cfe.Hint)
		}
		if err != nil {
			return fmt.Errorf("SFBEX_CA_FILE=%q: %v; point it at a PEM bundle of the CAs that issued your servers' certificates, e.g. SFBEX_CA_FILE=/etc/ssl/certs/contoso-root.pem", c.CAFile, err)
		}
		s.Web.RootCAs = pool
	}
	ct, err := webclient.ParseConnectTo(c.ConnectTo)
	if err != nil {
		return fmt.Errorf("SFBEX_CONNECT_TO: %v; e.g. SFBEX_CONNECT_TO=autodiscover.contoso.com:443=10.0.0.20:443", err)
	}
	s.Web.ConnectTo = ct
	for _, h := range c.TLSInsecureHosts {
		if h = strings.TrimSpace(h); h != "" {
			s.Web.InsecureHosts = append(s.Web.InsecureHosts, strings.ToLower(h))
		}
	}
	return nil
}

func domains(variable string, in []string) ([]string, error) {
	var out []string
	for _, d := range in {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" {
			continue
		}
		labels := strings.Split(d, ".")
		ok := len(labels) >= 2 && len(d) <= 253
		for _, l := range labels {
			ok = ok && len(l) <= 63 && hostLabelRe.MatchString(l)
		}
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a domain name; e.g. %s=contoso.com,fabrikam.com", variable, d, variable)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// resolvers parses SFBEX_DNS_RESOLVERS ("name=host:port,..."). Empty means
// the system resolver from /etc/resolv.conf, named "system".
func resolvers(spec string, internal []string) ([]estate.Resolver, error) {
	const eg = "e.g. SFBEX_DNS_RESOLVERS=internal=10.0.0.10:53,external=1.1.1.1:53"
	var out []estate.Resolver
	if strings.TrimSpace(spec) == "" {
		cc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cc.Servers) == 0 {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS is not set and /etc/resolv.conf names no server: set it, %s", eg)
		}
		out = append(out, estate.Resolver{Name: "system", Addr: net.JoinHostPort(cc.Servers[0], cc.Port)})
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "=")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || !resolverNameRe.MatchString(name) || addr == "" {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS: %q is not name=host:port (names: letters, digits, - and _); %s", item, eg)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil { // no port given: DNS's own
			host, port = strings.Trim(addr, "[]"), "53"
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || host == "" || strings.ContainsAny(host, " /") {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS: %q is not name=host:port with a port from 1 to 65535; %s", item, eg)
		}
		if slices.ContainsFunc(out, func(r estate.Resolver) bool { return r.Name == name }) {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS: the name %q is used twice; give each resolver its own name; %s", name, eg)
		}
		out = append(out, estate.Resolver{Name: name, Addr: net.JoinHostPort(host, port)})
	}
	for i := range out {
		out[i].Internal = slices.Contains(internal, out[i].Name)
	}
	return out, nil
}

// checkExpectations makes sure every SFBEX_DNS_EXPECT entry names a record
// the agent checks, a configured resolver and a type that fits the record.
func (s *Settings) checkExpectations() error {
	known := map[string]string{} // fqdn -> type
	for _, d := range s.allDomains() {
		for _, r := range dns.DomainRecords(d, slices.Contains(s.SIPDomains, d), slices.Contains(s.EmailDomains, d), s.Skip) {
			known[strings.TrimSuffix(r.FQDN, ".")] = r.TypeName()
		}
	}
	for _, e := range s.Expect {
		typ, ok := known[e.Name]
		if !ok {
			return fmt.Errorf("SFBEX_DNS_EXPECT: %s is not a record the agent checks for the configured domains (e.g. sip.<domain>, _sip._tls.<domain>); syntax: %s", e.Name, dns.ExpectSyntax)
		}
		if (typ == "SRV") != (e.Type == "SRV") {
			return fmt.Errorf("SFBEX_DNS_EXPECT: %s is looked up as %s, so its expectation must use %s; syntax: %s", e.Name, typ, map[bool]string{true: "SRV", false: "A or CNAME"}[typ == "SRV"], dns.ExpectSyntax)
		}
		if e.Resolver != "" && !slices.ContainsFunc(s.Resolvers, func(r estate.Resolver) bool { return r.Name == e.Resolver }) {
			return fmt.Errorf("SFBEX_DNS_EXPECT: resolver %q in %s@%s/%s is not in SFBEX_DNS_RESOLVERS", e.Resolver, e.Resolver, e.Name, e.Type)
		}
	}
	return nil
}

// allDomains lists SIP domains first, then email domains not already listed.
func (s *Settings) allDomains() []string {
	out := slices.Clone(s.SIPDomains)
	for _, d := range s.EmailDomains {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
