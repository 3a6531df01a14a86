package sip

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Family sends SIP OPTIONS over TLS to the Edge and the pool: one check
// per service (federation, clients, internal) over every SIP domain's
// targets, and one over the configured targets.
var Family = probes.Family{Name: "sip", Vars: &Vars{}, Checks: Checks}

// Vars are the SIP family's variables (docs/configuration.md#sip).
// SFBEX_SIP_DOMAINS belongs to the estate.
type Vars struct {
	Enabled        bool          `env:"SFBEX_SIP_ENABLED, default=true"`
	Services       []string      `env:"SFBEX_SIP_SERVICES, default=federation,clients,internal"`
	Targets        []string      `env:"SFBEX_SIP_TARGETS"`
	Interval       time.Duration `env:"SFBEX_SIP_INTERVAL, default=1m"`
	Timeout        time.Duration `env:"SFBEX_SIP_TIMEOUT, default=30s"`
	RequestTimeout time.Duration `env:"SFBEX_SIP_REQUEST_TIMEOUT, default=10s"`
	MaxAnswerBytes int           `env:"SFBEX_SIP_MAX_ANSWER_BYTES, default=65536"`
	From           string        `env:"SFBEX_SIP_FROM"`
	AcceptStatus   []string      `env:"SFBEX_SIP_ACCEPT_STATUS, default=200"`
	ClientCert     string        `env:"SFBEX_SIP_CLIENT_CERT"`
	ClientKey      string        `env:"SFBEX_SIP_CLIENT_KEY"`
	ClientPassword config.Secret `env:"SFBEX_SIP_CLIENT_CERT_PASSWORD"`
}

// The services a check covers: the record each is found through and the
// DNS views that must hold it.
const (
	Federation = "federation" // _sipfederationtls._tcp, external views: partners and Microsoft 365
	Clients    = "clients"    // _sip._tls, external views: remote clients
	Internal   = "internal"   // _sipinternaltls._tcp, internal views: the Front End pool
	Configured = "configured" // SFBEX_SIP_TARGETS
)

// Services lists the derived services in the order checks are built.
var Services = []string{Federation, Clients, Internal}

// Record is the SRV record a derived service is found through.
func Record(service string) string {
	switch service {
	case Federation:
		return "_sipfederationtls._tcp"
	case Clients:
		return "_sip._tls"
	case Internal:
		return "_sipinternaltls._tcp"
	}
	return ""
}

// Settings are the checked variables every check of the family shares.
type Settings struct {
	Interval, Timeout, RequestTimeout time.Duration
	MaxAnswerBytes                    int
	From                              string // user@domain
	Accept                            []int
	ClientCert                        *tls.Certificate // nil: none configured
	ClientCertSubject                 string
}

// Load reads and checks the family's variables. Enabled=false or nothing to
// check yields no settings and no error.
func Load(src config.Source, e *estate.Estate) (*Settings, *Vars, error) {
	var v Vars
	if err := config.Load(src, &v); err != nil {
		return nil, nil, err
	}
	if err := config.Schedule("SFBEX_SIP", v.Interval, v.Timeout); err != nil {
		return nil, nil, err
	}
	if err := config.Positive("SFBEX_SIP_REQUEST_TIMEOUT", v.RequestTimeout, "10s"); err != nil {
		return nil, nil, err
	}
	if err := config.Within("SFBEX_SIP_REQUEST_TIMEOUT", v.RequestTimeout, "SFBEX_SIP_TIMEOUT", v.Timeout, "which bounds a whole run over every target"); err != nil {
		return nil, nil, err
	}
	if err := config.Range("SFBEX_SIP_MAX_ANSWER_BYTES", v.MaxAnswerBytes, 1024, 1<<20, "65536"); err != nil {
		return nil, nil, err
	}
	var err error
	if v.Services, err = config.OneOf("SFBEX_SIP_SERVICES", v.Services, Services, "federation,clients"); err != nil {
		return nil, nil, err
	}
	s := &Settings{Interval: v.Interval, Timeout: v.Timeout, RequestTimeout: v.RequestTimeout, MaxAnswerBytes: v.MaxAnswerBytes}
	for _, item := range config.Items(v.AcceptStatus) {
		code, err := strconv.Atoi(item)
		if err != nil {
			return nil, nil, config.InvalidItem("SFBEX_SIP_ACCEPT_STATUS", item, "a SIP status code", "200")
		}
		if err := config.Range("SFBEX_SIP_ACCEPT_STATUS", code, 100, 699, "200"); err != nil {
			return nil, nil, err
		}
		s.Accept = append(s.Accept, code)
	}
	if len(s.Accept) == 0 {
		return nil, nil, config.Invalid("SFBEX_SIP_ACCEPT_STATUS", strings.Join(v.AcceptStatus, ","), "a list of SIP status codes", "200")
	}
	s.From = strings.TrimPrefix(strings.TrimSpace(v.From), "sip:")
	switch {
	case s.From == "" && len(e.SIPDomains) > 0:
		s.From = "sfbex-probe@" + e.SIPDomains[0]
	case s.From == "":
		s.From = "sfbex-probe@" + e.AllDomains()[0]
	case !config.IsEmail(s.From):
		return nil, nil, config.Invalid("SFBEX_SIP_FROM", v.From, "a SIP address user@domain", "sfbex-probe@contoso.com")
	}
	if v.ClientCert != "" {
		c, err := loadClientCert(v.ClientCert, v.ClientKey, v.ClientPassword)
		if err != nil {
			return nil, nil, err
		}
		s.ClientCert = c
		if c.Leaf != nil {
			s.ClientCertSubject = c.Leaf.Subject.CommonName
		}
	} else if v.ClientKey != "" {
		return nil, nil, errors.New("SFBEX_SIP_CLIENT_KEY is set without SFBEX_SIP_CLIENT_CERT: set both, or neither; e.g. SFBEX_SIP_CLIENT_CERT=/etc/sfbex/edge-client.pem with SFBEX_SIP_CLIENT_KEY=/etc/sfbex/edge-client.key")
	}
	return s, &v, nil
}

// loadClientCert reads the certificate the probe presents when a server
// asks for one: a PFX (with its password), or PEM with the key in the same
// file or in keyPath. The password never appears in an error.
func loadClientCert(certPath, keyPath string, password config.Secret) (*tls.Certificate, error) {
	const eg = "e.g. SFBEX_SIP_CLIENT_CERT=/etc/sfbex/edge-client.pfx with SFBEX_SIP_CLIENT_CERT_PASSWORD_FILE=/run/secrets/pfx"
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("SFBEX_SIP_CLIENT_CERT: cannot read %q (%v); %s", certPath, errors.Unwrap(err), eg)
	}
	if blk, _ := pem.Decode(b); blk == nil {
		// Not PEM: a PFX.
		key, leaf, cas, err := pkcs12.DecodeChain(b, password.Reveal())
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword):
			return nil, fmt.Errorf("SFBEX_SIP_CLIENT_CERT: %q is a PFX that SFBEX_SIP_CLIENT_CERT_PASSWORD does not open: set the password it was exported with", certPath)
		case err != nil:
			return nil, fmt.Errorf("SFBEX_SIP_CLIENT_CERT: %q is neither PEM nor a PFX with a key and a certificate (%s); %s", certPath, password.Scrub(err.Error()), eg)
		}
		c := &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
		for _, ca := range cas {
			c.Certificate = append(c.Certificate, ca.Raw)
		}
		return c, nil
	}
	keyPEM := b
	if keyPath != "" {
		if keyPEM, err = os.ReadFile(keyPath); err != nil {
			return nil, fmt.Errorf("SFBEX_SIP_CLIENT_KEY: cannot read %q (%v); point it at the PEM private key of SFBEX_SIP_CLIENT_CERT", keyPath, errors.Unwrap(err))
		}
	}
	c, err := tls.X509KeyPair(b, keyPEM)
	if err != nil {
		where := "SFBEX_SIP_CLIENT_CERT " + strconv.Quote(certPath)
		if keyPath != "" {
			where += " with SFBEX_SIP_CLIENT_KEY " + strconv.Quote(keyPath)
		}
		return nil, fmt.Errorf("%s: %v: give a PEM certificate and its unencrypted private key (in the same file or in SFBEX_SIP_CLIENT_KEY), or a PFX", where, err)
	}
	if c.Leaf == nil {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	return &c, nil
}

// Checks builds the family's checks for the estate: one per service with
// targets to derive (nothing where the Skype for Business side is online),
// and one over SFBEX_SIP_TARGETS.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	s, v, err := Load(env.Vars, env.Estate)
	if err != nil || !v.Enabled {
		return nil, err
	}
	targets, err := config.HostPorts("SFBEX_SIP_TARGETS", v.Targets, "edge-int.contoso.com:5061,sip.fabrikam.com:5061")
	if err != nil {
		return nil, err
	}
	var checks []*probes.Check
	add := func(cfg Config) error {
		p, err := NewProber(cfg)
		if err != nil {
			return fmt.Errorf("sip check %s: %w", cfg.Service, err)
		}
		checks = append(checks, &probes.Check{Probe: "sip", Target: cfg.Service, Interval: s.Interval, Timeout: s.Timeout, Run: p.Probe})
		return nil
	}
	// A record the admin has the DNS family skip is not followed here
	// either (the DNS family checks the variable's values).
	var dnsVars struct {
		Skip []string `env:"SFBEX_DNS_SKIP_RECORDS"`
	}
	if err := config.Load(env.Vars, &dnsVars); err != nil {
		return nil, err
	}
	skip := config.Items(dnsVars.Skip)
	e := env.Estate
	for _, svc := range v.Services {
		if slices.Contains(skip, Record(svc)) {
			continue
		}
		cfg := Config{Service: svc, Settings: s, Web: &env.Web.Options, QueryTimeout: e.QueryTimeout, Resolvers: Views(e, svc)}
		cfg.Domains = DerivedDomains(e)
		if len(cfg.Domains) == 0 {
			continue
		}
		if err := add(cfg); err != nil {
			return nil, err
		}
	}
	if len(targets) > 0 {
		cfg := Config{Service: Configured, Settings: s, Web: &env.Web.Options}
		for _, t := range targets {
			cfg.Targets = append(cfg.Targets, Target{Host: t.Host, Port: t.Port})
		}
		if err := add(cfg); err != nil {
			return nil, err
		}
	}
	return checks, nil
}

// DerivedDomains are the SIP domains whose targets come from DNS: none
// when the Skype for Business side is online (Microsoft runs those
// servers; the agent probes only what the admin configures then).
func DerivedDomains(e *estate.Estate) []string {
	if e.Lync == estate.Online {
		return nil
	}
	return e.SIPDomains
}

// Views are the resolvers a service's record is looked up through: the
// external views for what partners and remote clients use, the internal
// ones for the pool (every resolver when none is marked internal: the
// agent's own resolver is then the one it has).
func Views(e *estate.Estate, service string) []estate.Resolver {
	if service != Internal {
		return e.ExternalResolvers()
	}
	var out []estate.Resolver
	for _, r := range e.Resolvers {
		if r.Internal {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return e.Resolvers
	}
	return out
}
