package certs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Server says who publishes an auth metadata document; the rules for its
// certificates depend on it.
type Server string

const (
	Exchange Server = "exchange" // Exchange Server Auth Certificate
	SfB      Server = "sfb"      // Skype for Business OAuthTokenIssuer certificate
	Other    Server = "other"    // Microsoft 365 ACS or any other partner
)

// Certificate roles in a metadata document. The document does not say
// which key signs today, so the roles are inferred (docs/metrics.md):
// current is the valid certificate that expires first; next is the one
// that expires last, if later than current; previous is an expired one
// published beside a valid one.
const (
	RoleCurrent  = "current"
	RoleNext     = "next"
	RolePrevious = "previous"
	RoleOther    = "other"
)

// OAuthConfig configures the probe of one group of metadata documents.
type OAuthConfig struct {
	Server  Server
	URLs    []string
	Domains []string // SIP domains, for the Skype for Business Subject rule
	Web     *webclient.Options
	Limits  Thresholds
	// BodyLimit bounds a document (default 1 MiB; real ones are a few KiB).
	BodyLimit int64
	// Now is the clock (tests).
	Now func() time.Time
}

// OAuthProber fetches and judges auth metadata documents. It remembers the
// last document each URL served well, so that a failed fetch or a document
// that does not parse shows the last good certificates, marked stale,
// rather than no certificate or a missing next one.
type OAuthProber struct {
	cfg    OAuthConfig
	client *http.Client

	mu   sync.Mutex
	last map[string]*goodDoc
}

// maxParallelFetches bounds the documents of one group fetched at once.
const maxParallelFetches = 8

type goodDoc struct {
	md *Metadata
	at time.Time
}

// NewOAuthProber returns a prober for cfg.
func NewOAuthProber(cfg OAuthConfig) (*OAuthProber, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("no metadata URL")
	}
	if cfg.Web == nil {
		cfg.Web = &webclient.Options{}
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &OAuthProber{cfg: cfg, client: cfg.Web.Client(), last: map[string]*goodDoc{}}, nil
}

// OAuthResult is one run over a group of metadata documents.
type OAuthResult struct {
	Server    Server     `json:"server"`
	Documents []Document `json:"documents"`
	// PoolsConsistent: every Skype for Business pool publishes the same
	// current certificate. Nil unless two or more documents are known.
	PoolsConsistent *bool `json:"pools_consistent,omitempty"`

	findings []probes.Finding
	now      time.Time
}

// Findings implements probes.Result.
func (r *OAuthResult) Findings() []probes.Finding { return r.findings }

// Document is what is known about one metadata URL.
type Document struct {
	URL    string `json:"url"`
	Server Server `json:"server"`
	// Up: the latest fetch returned a document that parsed.
	Up bool `json:"up"`
	// Stale: the latest fetch failed and the rest comes from FetchedAt.
	Stale bool   `json:"stale"`
	Error string `json:"error,omitempty"`
	// FetchedAt is when the document shown was fetched; zero when never.
	FetchedAt   time.Time   `json:"fetched_at"`
	Realm       string      `json:"realm,omitempty"`
	Issuer      string      `json:"issuer,omitempty"`
	ServiceName string      `json:"service_name,omitempty"`
	Certs       []OAuthCert `json:"certs"`
	NextPresent bool        `json:"next_present"`
	// Known: a document has been fetched at least once.
	Known bool `json:"known"`
}

// OAuthCert is one signing certificate of a document.
type OAuthCert struct {
	Cert
	Role         string `json:"role"`
	Usage        string `json:"usage"`
	PublishedX5T string `json:"published_x5t,omitempty"`
	// X5TMatches: nil when the document publishes no keyinfo.
	X5TMatches *bool `json:"x5t_matches,omitempty"`
	// SubjectHasSIPDomain: Skype for Business documents only.
	SubjectHasSIPDomain *bool `json:"subject_has_sip_domain,omitempty"`
}

// Current returns the current certificate, or nil.
func (d *Document) Current() *OAuthCert {
	for i := range d.Certs {
		if d.Certs[i].Role == RoleCurrent {
			return &d.Certs[i]
		}
	}
	return nil
}

// Probe fetches every document of the group. The error names each URL that
// could not be fetched or parsed; their last good documents stay in the
// result, marked stale.
func (p *OAuthProber) Probe(ctx context.Context) (probes.Result, error) {
	type fetched struct {
		md  *Metadata
		err error
	}
	// Each document gets its share of the run, so one URL that hangs
	// cannot keep the others from being fetched and recorded.
	out := make([]fetched, len(p.cfg.URLs))
	probes.Walk(ctx, len(p.cfg.URLs), maxParallelFetches, 0, func(mctx context.Context, i int, share time.Duration) {
		md, err := p.fetch(mctx, p.cfg.URLs[i])
		out[i] = fetched{md, probes.MemberErr(mctx, ctx, share, err)}
	})

	now := p.cfg.Now()
	res := &OAuthResult{Server: p.cfg.Server, now: now}
	var errs []error
	p.mu.Lock()
	for i, u := range p.cfg.URLs {
		doc := Document{URL: u, Server: p.cfg.Server}
		f := out[i]
		if f.err == nil {
			p.last[u] = &goodDoc{md: f.md, at: now}
			doc.Up = true
		} else {
			doc.Error = f.err.Error()
			errs = append(errs, probes.WithFix(fmt.Errorf("%s: %w", u, f.err), p.fetchFix(u, f.err)))
		}
		if g := p.last[u]; g != nil {
			doc.Known, doc.Stale, doc.FetchedAt = true, !doc.Up, g.at
			p.fill(&doc, g.md, now)
		}
		res.Documents = append(res.Documents, doc)
	}
	p.mu.Unlock()
	p.judge(res)
	return res, errors.Join(errs...)
}

func (p *OAuthProber) fetch(ctx context.Context, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if p.cfg.Web.UserAgent != "" {
		req.Header.Set("User-Agent", p.cfg.Web.UserAgent)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// A web page or other bytes where the JSON document belongs is not kept
	// past its first bytes, whatever the body limit.
	body, _, truncated, refused, err := webclient.ReadDocument(resp.Body, p.cfg.BodyLimit, webclient.LooksJSON)
	if err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode}
	}
	if truncated && !refused {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrNotMetadata, p.cfg.BodyLimit)
	}
	return ParseMetadata(body)
}

type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.code, http.StatusText(e.code))
}

func (p *OAuthProber) fetchFix(u string, err error) string {
	host := u
	if pu, perr := url.Parse(u); perr == nil {
		host = pu.Host
	}
	var se *statusError
	switch {
	case errors.As(err, &se) && p.cfg.Server == Exchange:
		return fmt.Sprintf("Exchange serves the document from its Autodiscover virtual directory: check that %s is an Exchange server (Get-AutodiscoverVirtualDirectory) and that the URL opens in a browser, or set SFBEX_EXCHANGE_METADATA_URLS to the right URL; see docs/runbooks.md#auth-metadata-unreadable.", host)
	case errors.As(err, &se) && p.cfg.Server == SfB:
		return fmt.Sprintf("Skype for Business serves /metadata/json/1 on the pool's internal web services FQDN: check that %s is a Front End pool and that the URL opens in a browser, or correct SFBEX_SFB_METADATA_URLS; see docs/runbooks.md#auth-metadata-unreadable.", host)
	case errors.As(err, &se):
		return "Open the URL in a browser from the agent's host and correct SFBEX_AUTH_METADATA_URLS if it moved."
	case errors.Is(err, ErrNotMetadata) || strings.Contains(err.Error(), "keyvalue"):
		return "The URL did not return an auth metadata document: open it from the agent's host (a proxy or login page may answer instead) and point the variable at the server's /metadata/json/1 URL. The last good document stays shown until then; see docs/runbooks.md#auth-metadata-unreadable."
	default:
		return fmt.Sprintf("Check that the agent can reach %s over HTTPS (DNS, firewall, SFBEX_CONNECT_TO) and trusts its certificate (SFBEX_CA_FILE); see docs/runbooks.md#auth-metadata-unreadable.", host)
	}
}

// fill copies the document's facts into doc and infers the roles at now.
func (p *OAuthProber) fill(doc *Document, md *Metadata, now time.Time) {
	doc.Realm, doc.Issuer, doc.ServiceName = md.Realm, md.Issuer, md.ServiceName
	seen := map[string]bool{}
	for i := range md.Keys {
		k := &md.Keys[i]
		if !k.Signing() || seen[k.Cert.Thumbprint] {
			continue
		}
		seen[k.Cert.Thumbprint] = true
		oc := OAuthCert{Cert: k.Cert, Usage: k.Usage, PublishedX5T: k.X5T, X5TMatches: k.X5TMatches()}
		if p.cfg.Server == SfB && len(p.cfg.Domains) > 0 {
			has := slices.ContainsFunc(p.cfg.Domains, func(d string) bool { return SubjectHasDomain(k.Cert.X509(), d) })
			oc.SubjectHasSIPDomain = &has
		}
		doc.Certs = append(doc.Certs, oc)
	}
	AssignRoles(doc.Certs, now)
	doc.NextPresent = slices.ContainsFunc(doc.Certs, func(c OAuthCert) bool { return c.Role == RoleNext })
}

// AssignRoles infers each signing certificate's role at now:
//   - current: the earliest-expiring certificate valid now; when none is
//     valid, the latest-expiring expired one (the document's signer has
//     run out), or else the first to become valid;
//   - next: of the others, the latest-expiring one, if it outlives current;
//   - previous: other expired certificates;
//   - other: anything else.
//
// Certificates are sorted by expiry, current first.
func AssignRoles(cs []OAuthCert, now time.Time) {
	if len(cs) == 0 {
		return
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].NotAfter.Before(cs[j].NotAfter) })
	cur := -1
	for i := range cs { // earliest-expiring valid one
		if !cs[i].Expired(now) && !cs[i].NotYetValid(now) {
			cur = i
			break
		}
	}
	if cur < 0 {
		for i := range cs { // latest-expiring expired one
			if cs[i].Expired(now) {
				cur = i
			}
		}
	}
	if cur < 0 { // all in the future: the first to become valid
		cur = 0
		for i := range cs {
			if cs[i].NotBefore.Before(cs[cur].NotBefore) {
				cur = i
			}
		}
	}
	next := -1
	for i := range cs {
		if i != cur && cs[i].NotAfter.After(cs[cur].NotAfter) && (next < 0 || !cs[i].NotAfter.Before(cs[next].NotAfter)) {
			next = i
		}
	}
	for i := range cs {
		switch {
		case i == cur:
			cs[i].Role = RoleCurrent
		case i == next:
			cs[i].Role = RoleNext
		case cs[i].Expired(now):
			cs[i].Role = RolePrevious
		default:
			cs[i].Role = RoleOther
		}
	}
	if cur != 0 { // current first, the rest by expiry
		c := cs[cur]
		copy(cs[1:cur+1], cs[:cur])
		cs[0] = c
	}
}

// judge turns the documents into findings.
func (p *OAuthProber) judge(res *OAuthResult) {
	lim := p.cfg.Limits
	now := res.now
	what := map[Server]string{
		Exchange: "Exchange auth certificate", SfB: "Skype for Business OAuthTokenIssuer certificate", Other: "OAuth signing certificate",
	}[p.cfg.Server]
	renew := renewFix[p.cfg.Server]
	add := func(sev probes.Severity, subject, problem, fix string) {
		res.findings = append(res.findings, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
	}
	for i := range res.Documents {
		d := &res.Documents[i]
		if !d.Known {
			continue
		}
		if len(d.Certs) == 0 {
			add(probes.Critical, "auth metadata "+d.URL, "publishes no signing certificate: partners cannot validate any token it issues",
				"Check that the URL is the server's auth metadata document and that the server has a server-to-server certificate assigned (Get-AuthConfig, Get-CsCertificate -Type OAuthTokenIssuer); see docs/runbooks.md#auth-metadata-unreadable.")
			continue
		}
		cur := d.Current()
		subj := func(c *OAuthCert) string {
			return fmt.Sprintf("%s %q (%s, %s)", what, c.SubjectCN, c.Thumbprint, d.URL)
		}
		left := cur.DaysLeft(now)
		var next *OAuthCert
		for j := range d.Certs {
			if d.Certs[j].Role == RoleNext {
				next = &d.Certs[j]
			}
		}
		switch {
		case cur.Expired(now):
			add(probes.Critical, subj(cur), fmt.Sprintf("expired on %s and no valid certificate is published: server-to-server auth (OWA IM, EWS from Skype for Business, hybrid) fails", day(cur.NotAfter)), renew)
		case cur.NotYetValid(now):
			add(probes.Warning, subj(cur), fmt.Sprintf("is not valid until %s: check the server's clock and the certificate", day(cur.NotBefore)), renew)
		case left < float64(lim.CriticalDays) && next == nil:
			add(probes.Critical, subj(cur), fmt.Sprintf("expires in %s (%s) and no next certificate is staged", days(left), day(cur.NotAfter)), renew)
		case left < float64(lim.CriticalDays):
			add(probes.Warning, subj(cur), fmt.Sprintf("expires in %s (%s); a next certificate (%s) is published, but the document cannot show when the server switches to it", days(left), day(cur.NotAfter), next.Thumbprint), switchFix[p.cfg.Server])
		case left < float64(lim.OAuthRenewDays) && next == nil:
			add(probes.Warning, subj(cur), fmt.Sprintf("expires in %s (%s) and no next certificate is staged (renew below %d days)", days(left), day(cur.NotAfter), lim.OAuthRenewDays), renew)
		case left < float64(lim.OAuthRenewDays):
			add(probes.Info, subj(cur), fmt.Sprintf("expires in %s; the next certificate %s is staged", days(left), next.Thumbprint), switchFix[p.cfg.Server])
		}
		if next != nil && next.DaysLeft(now) < float64(lim.OAuthNextMinDays) {
			add(probes.Warning, subj(next), fmt.Sprintf("the staged next certificate expires in %s (%s): it would need replacing soon after it takes over (below %d days)", days(next.DaysLeft(now)), day(next.NotAfter), lim.OAuthNextMinDays), renew)
		}
		for j := range d.Certs {
			c := &d.Certs[j]
			if c.Role == RolePrevious {
				add(probes.Warning, subj(c), fmt.Sprintf("expired on %s but is still published beside the current certificate", day(c.NotAfter)), previousFix[p.cfg.Server])
			}
			if c.X5TMatches != nil && !*c.X5TMatches {
				add(probes.Warning, subj(c), fmt.Sprintf("the published x5t %q is not the certificate's SHA-1 hash (%s): partners that look the key up by x5t reject tokens", c.PublishedX5T, c.X5T),
					"Look for a proxy or load balancer rewriting the document, then republish the certificate (Exchange: restart MSExchangeServiceHost; Skype for Business: Set-CsCertificate -Identity global -Type OAuthTokenIssuer). See docs/runbooks.md#oauth-x5t-mismatch.")
			}
			if c.Role != RoleCurrent && c.Role != RoleNext {
				continue
			}
			if c.KeyAlgorithm == "RSA" && c.KeyBits < lim.MinRSABits {
				add(probes.Warning, subj(c), fmt.Sprintf("has a %d-bit RSA key; server-to-server certificates need at least %d bits (seed 003)", c.KeyBits, lim.MinRSABits), requirementsFix[p.cfg.Server])
			}
			if c.SubjectHasSIPDomain != nil && !*c.SubjectHasSIPDomain {
				add(probes.Warning, subj(c), fmt.Sprintf("Subject %q does not include the SIP domain (%s), which seed 003 requires of the OAuthTokenIssuer certificate", c.Subject, strings.Join(p.cfg.Domains, ", ")), requirementsFix[p.cfg.Server])
			}
		}
	}
	if p.cfg.Server == SfB {
		p.judgePools(res)
	}
}

// judgePools checks that every pool publishes the same current certificate
// (seed 003: the same certificate on all Front End servers).
func (p *OAuthProber) judgePools(res *OAuthResult) {
	byThumb := map[string][]string{}
	n := 0
	for _, d := range res.Documents {
		if cur := d.Current(); cur != nil {
			byThumb[cur.Thumbprint] = append(byThumb[cur.Thumbprint], d.URL)
			n++
		}
	}
	if n < 2 {
		return
	}
	same := len(byThumb) == 1
	res.PoolsConsistent = &same
	if same {
		return
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(byThumb)) {
		parts = append(parts, fmt.Sprintf("%s publishes %s", strings.Join(byThumb[t], ", "), t))
	}
	res.findings = append(res.findings, probes.Finding{
		Severity: probes.Critical,
		Subject:  "Skype for Business OAuthTokenIssuer certificate across pools",
		Problem:  "the pools publish different certificates: " + strings.Join(parts, "; "),
		Fix:      "The OAuthTokenIssuer certificate is global and replicated by the CMS: assign it once (Import-CsCertificate -Identity global -Type OAuthTokenIssuer, or Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint <thumbprint>) and check replication with Get-CsManagementStoreReplicationStatus. See docs/runbooks.md#oauth-certificate-differs-between-pools.",
	})
}

var renewFix = map[Server]string{
	Exchange: `Renew it: New-ExchangeCertificate -KeySize 2048 -PrivateKeyExportable $true -SubjectName "cn=Microsoft Exchange Server Auth Certificate" -FriendlyName "Microsoft Exchange Server Auth Certificate" -DomainName @(); Set-AuthConfig -NewCertificateThumbprint <thumbprint> -NewCertificateEffectiveDate <date>; Exchange switches at that date (if the current one has expired, switch now with Set-AuthConfig -PublishCertificate), then Set-AuthConfig -ClearPreviousCertificate; restart MSExchangeServiceHost and the OWA/ECP app pools; in hybrid, rerun the Hybrid Configuration Wizard. See docs/runbooks.md#oauth-certificate-expiring.`,
	SfB:      `Renew it: get a certificate with the SIP domain in the Subject and a key of at least 2048 bits (Request-CsCertificate -New -Type OAuthTokenIssuer, or your CA), then on one Front End run Import-CsCertificate -Identity global -Type OAuthTokenIssuer -Path <pfx> -Password <password> (or Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint <thumbprint>; add -Roll -EffectiveDate <date> to stage it); it replicates to every Front End. See docs/runbooks.md#oauth-certificate-expiring.`,
	Other:    `Ask the publisher to renew its signing certificate; for Microsoft 365 ACS, check that the URL names the right tenant.`,
}

var requirementsFix = map[Server]string{
	Exchange: `Replace it with a 2048-bit certificate: New-ExchangeCertificate -KeySize 2048 … and the Set-AuthConfig steps in docs/runbooks.md#oauth-certificate-expiring.`,
	SfB:      `Assign an OAuthTokenIssuer certificate with the SIP domain in its Subject and a key of at least 2048 bits: Import-CsCertificate -Identity global -Type OAuthTokenIssuer -Path <pfx> -Password <password> on one Front End (or Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint <thumbprint>). See docs/runbooks.md#oauth-certificate-requirements.`,
	Other:    `Ask the publisher for a signing certificate with a key of at least 2048 bits.`,
}

var switchFix = map[Server]string{
	Exchange: `Check Get-AuthConfig: NextCertificateThumbprint should be the staged certificate and NextCertificateEffectiveDate before the current one expires; to switch now, run Set-AuthConfig -PublishCertificate and restart MSExchangeServiceHost. See docs/runbooks.md#oauth-certificate-expiring.`,
	SfB:      `Check Get-CsCertificate -Type OAuthTokenIssuer: the staged certificate's EffectiveDate must come before the current one expires (Set-CsCertificate -Type OAuthTokenIssuer -Roll -EffectiveDate <date>). See docs/runbooks.md#oauth-certificate-expiring.`,
	Other:    `Confirm with the publisher that it switches to the next certificate before the current one expires.`,
}

var previousFix = map[Server]string{
	Exchange: `If Get-AuthConfig shows this thumbprint as CurrentCertificateThumbprint, server-to-server auth is broken now: run Set-AuthConfig -PublishCertificate to switch to the next certificate. If it is PreviousCertificateThumbprint, run Set-AuthConfig -ClearPreviousCertificate. See docs/runbooks.md#oauth-expired-certificate-still-published.`,
	SfB:      `If Get-CsCertificate -Type OAuthTokenIssuer still shows this thumbprint, assign the valid one with Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint <thumbprint>; otherwise remove the expired certificate from the Front Ends' stores. See docs/runbooks.md#oauth-expired-certificate-still-published.`,
	Other:    `Ask the publisher to stop publishing the expired certificate.`,
}

// Details lists every document and certificate, with days left counted now.
func (r *OAuthResult) Details() []string {
	now := time.Now()
	var out []string
	for _, d := range r.Documents {
		line := fmt.Sprintf("%s (%s)", d.URL, d.Server)
		switch {
		case !d.Known:
			out = append(out, line+": never fetched: "+d.Error)
			continue
		case d.Stale:
			line += fmt.Sprintf(" [stale: showing the document fetched %s; latest fetch: %s]", d.FetchedAt.UTC().Format(time.RFC3339), d.Error)
		}
		line += fmt.Sprintf(": realm %q, issuer %q, serviceName %q, %d signing certificate(s), next staged: %t", d.Realm, d.Issuer, d.ServiceName, len(d.Certs), d.NextPresent)
		out = append(out, line)
		for _, c := range d.Certs {
			l := "  " + c.Role + ": " + c.Line(now)
			switch {
			case c.X5TMatches == nil:
				l += ", no x5t published"
			case *c.X5TMatches:
				l += ", x5t matches"
			default:
				l += ", x5t DOES NOT MATCH"
			}
			if c.SubjectHasSIPDomain != nil && !*c.SubjectHasSIPDomain {
				l += ", SIP domain NOT in Subject"
			}
			out = append(out, l)
		}
	}
	if r.PoolsConsistent != nil {
		out = append(out, fmt.Sprintf("pools publish the same current certificate: %t", *r.PoolsConsistent))
	}
	return out
}
