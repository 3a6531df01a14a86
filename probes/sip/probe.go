// Package sip checks that the Skype for Business Edge and pool answer SIP:
// it opens TLS to every target clients and federation partners find in
// DNS (or the admin configures), sends a SIP OPTIONS and reads the answer
// with sipgo's parser. A TLS certificate on port 5061 says nothing about
// whether the Access Edge behind it answers; this family does.
package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// Target is one host:port to send OPTIONS to.
type Target struct {
	Host string
	Port int
	// Domains are the SIP domains whose record leads here ("" for a
	// configured target).
	Domains []string
	// Addrs are the addresses DNS gave the SRV target, dialled when no
	// connect-to override applies.
	Addrs []string
}

// Key is "host:port", the target label.
func (t Target) Key() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Config configures one check: one service's targets.
type Config struct {
	Service  string
	Settings *Settings
	Web      *webclient.Options
	// Domains whose Record(Service) is followed, through Resolvers.
	Domains      []string
	Resolvers    []estate.Resolver
	QueryTimeout time.Duration
	// Targets are configured targets (service "configured").
	Targets []Target
	// MaxParallel bounds concurrent exchanges (default 8).
	MaxParallel int
	Now         func() time.Time
}

// Prober runs one service's check. It keeps each target's last answer and
// the last definitive SRV answers, so that a failed exchange or lookup
// shows what was last known, marked stale, instead of nothing.
type Prober struct {
	cfg    Config
	record string

	mu      sync.Mutex
	lastSRV map[[2]string][]Target // (record fqdn, resolver) -> targets
	last    map[string]*memory     // target key -> last answer and TLS facts
}

type memory struct {
	answer *Answer
	rtt    time.Duration
	at     time.Time
	tls    *TLSFacts
	tlsAt  time.Time
}

// NewProber checks cfg.
func NewProber(cfg Config) (*Prober, error) {
	if cfg.Settings == nil {
		return nil, errors.New("no settings")
	}
	rec := Record(cfg.Service)
	switch {
	case cfg.Service == Configured && len(cfg.Targets) == 0:
		return nil, errors.New("no configured target")
	case cfg.Service != Configured && rec == "":
		return nil, fmt.Errorf("unknown service %q", cfg.Service)
	case cfg.Service != Configured && len(cfg.Resolvers) == 0:
		return nil, errors.New("SRV records to follow but no resolver")
	}
	if cfg.Web == nil {
		cfg.Web = &webclient.Options{}
	}
	if cfg.MaxParallel <= 0 {
		cfg.MaxParallel = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Prober{cfg: cfg, record: rec, lastSRV: map[[2]string][]Target{}, last: map[string]*memory{}}, nil
}

// Result is one run of a service's check.
type Result struct {
	Service string         `json:"service"`
	Targets []TargetResult `json:"targets"`
	// Notes say what DNS gave that is not probed (Microsoft 365 hosts,
	// records without targets).
	Notes    []string `json:"notes,omitempty"`
	accept   []int
	findings []probes.Finding
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

// TargetResult is what one target did in this run, and its last answer.
type TargetResult struct {
	Target  string   `json:"target"`
	Domains []string `json:"domains"`
	Address string   `json:"address,omitempty"`
	// Outcome and Error are this run's.
	Outcome Outcome   `json:"outcome"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
	// Answer is the last answer: this run's when Outcome is answered,
	// else an earlier run's (Stale), or nil when none ever came.
	Answer   *Answer       `json:"answer,omitempty"`
	RTT      time.Duration `json:"rtt_ns,omitempty"`
	AnswerAt time.Time     `json:"answer_at"`
	Stale    bool          `json:"stale"`
	// TLS is the last handshake's facts (this run's unless TLSStale).
	TLS      *TLSFacts `json:"tls,omitempty"`
	TLSStale bool      `json:"tls_stale,omitempty"`
	fix      string
}

// Accepted reports whether the shown answer's status is one the admin
// accepts (SFBEX_SIP_ACCEPT_STATUS).
func (r *Result) Accepted(t *TargetResult) bool {
	return t.Answer != nil && slices.Contains(r.accept, t.Answer.Status)
}

// TLSFacts are what the handshake showed, reported whatever the verdict.
type TLSFacts struct {
	Version string `json:"version,omitempty"`
	// Name is the name the certificate is verified for: the one the peer
	// (client or federation partner) connects to.
	Name         string    `json:"name"`
	VerifyOK     bool      `json:"verify_ok"`
	VerifyReason string    `json:"verify_reason"`
	VerifyError  string    `json:"verify_error,omitempty"`
	Skipped      bool      `json:"verify_skipped,omitempty"`
	LeafSubject  string    `json:"leaf_subject,omitempty"`
	LeafNames    []string  `json:"leaf_names,omitempty"`
	LeafNotAfter time.Time `json:"leaf_not_after"`
	// ClientCertRequested: the server asked for a client certificate
	// (federation uses mutual TLS); ClientCertSent: the configured one was
	// presented.
	ClientCertRequested bool `json:"client_cert_requested"`
	ClientCertSent      bool `json:"client_cert_sent"`
	// ClientCertSubject is the CN of the certificate presented.
	ClientCertSubject string        `json:"client_cert_subject,omitempty"`
	Handshake         time.Duration `json:"handshake_ns"`
}

// VerifyReasons lists every TLSFacts.VerifyReason.
var VerifyReasons = certs.VerifyReasons

// Probe follows the service's SRV records, sends OPTIONS to every target
// (one connection each) and reports. The error lists lookups that failed
// and targets that did not answer.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	targets, notes, errs := p.targets(ctx)
	exs := make([]*Exchange, len(targets))
	probes.Walk(ctx, len(targets), p.cfg.MaxParallel, p.cfg.Settings.RequestTimeout, func(mctx context.Context, i int, share time.Duration) {
		exs[i] = p.exchange(mctx, targets[i])
		if exs[i].Err != nil {
			exs[i].Err = probes.MemberErr(mctx, ctx, share, exs[i].Err)
		}
	})
	res := &Result{Service: p.cfg.Service, Notes: notes, accept: p.cfg.Settings.Accept}
	p.mu.Lock()
	keep := map[string]bool{}
	for i, t := range targets {
		ex, key := exs[i], t.Key()
		keep[key] = true
		m := p.last[key]
		if m == nil {
			m = &memory{}
			p.last[key] = m
		}
		if ex.Outcome == Answered {
			m.answer, m.rtt, m.at = ex.Answer, ex.RTT, ex.At
		}
		if ex.TLS != nil {
			m.tls, m.tlsAt = ex.TLS, ex.At
		}
		tr := TargetResult{Target: key, Domains: t.Domains, Address: ex.Address, Outcome: ex.Outcome, At: ex.At,
			Answer: m.answer, RTT: m.rtt, AnswerAt: m.at, Stale: ex.Outcome != Answered && m.answer != nil,
			TLS: m.tls, TLSStale: ex.TLS == nil && m.tls != nil}
		if ex.Err != nil {
			tr.Error = ex.Err.Error()
			tr.fix = p.fix(t, ex)
			errs = append(errs, probes.WithFix(fmt.Errorf("%s: %s: %w", key, ex.Outcome, ex.Err), tr.fix))
		}
		res.Targets = append(res.Targets, tr)
	}
	for key := range p.last { // targets DNS no longer gives
		if !keep[key] {
			delete(p.last, key)
		}
	}
	p.mu.Unlock()
	res.judge(p.cfg.Service, p.cfg.Settings, p.cfg.Now())
	return res, errors.Join(errs...)
}

// targets returns the configured targets and the SRV targets of every
// domain through every view, merged by host:port, sorted.
func (p *Prober) targets(ctx context.Context) ([]Target, []string, []error) {
	all := slices.Clone(p.cfg.Targets)
	if p.cfg.Service == Configured {
		return merge(all), nil, nil
	}
	type job struct {
		domain string
		res    estate.Resolver
	}
	var jobs []job
	for _, d := range p.cfg.Domains {
		for _, r := range p.cfg.Resolvers {
			jobs = append(jobs, job{d, r})
		}
	}
	answers := make([]dns.Answer, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = dns.Resolve(ctx, j.res, p.record+"."+j.domain, mdns.TypeSRV, p.cfg.QueryTimeout)
		}()
	}
	wg.Wait()
	var notes []string
	var errs []error
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, j := range jobs {
		a := answers[i]
		fqdn := p.record + "." + j.domain
		key := [2]string{fqdn, j.res.Name}
		if !a.Outcome.Definitive() {
			errs = append(errs, probes.WithFix(fmt.Errorf("SRV %s via %s: %s", fqdn, j.res.Name, a.Detail),
				fmt.Sprintf("Check resolver %s (the dns check shows the same lookup); until it answers, the targets of its last answer are checked.", j.res)))
			all = append(all, p.lastSRV[key]...)
			continue
		}
		var ts []Target
		for _, s := range a.SRVs {
			host := strings.TrimSuffix(strings.ToLower(s.Target), ".")
			switch {
			case host == "" || s.Port == 0:
				notes = append(notes, fmt.Sprintf("%s via %s says the service is not offered (target \".\")", fqdn, j.res.Name))
				continue
			case estate.IsOnlineHost(host):
				// Microsoft runs it: not this agent's to probe.
				notes = append(notes, fmt.Sprintf("%s via %s points to %s:%d, in Microsoft 365: not probed (add it to SFBEX_SIP_TARGETS to probe it)", fqdn, j.res.Name, host, s.Port))
				continue
			}
			ts = append(ts, Target{Host: host, Port: int(s.Port), Domains: []string{j.domain}, Addrs: s.Addresses})
		}
		if len(a.SRVs) == 0 {
			notes = append(notes, fmt.Sprintf("%s via %s: no SRV record (%s)", fqdn, j.res.Name, a.Outcome))
		}
		p.lastSRV[key] = ts
		all = append(all, ts...)
	}
	return merge(all), notes, errs
}

func merge(in []Target) []Target {
	by := map[string]*Target{}
	for _, t := range in {
		k := t.Key()
		m, ok := by[k]
		if !ok {
			c := t
			c.Domains, c.Addrs = nil, nil
			m = &c
			by[k] = m
		}
		for _, d := range t.Domains {
			if !slices.Contains(m.Domains, d) {
				m.Domains = append(m.Domains, d)
			}
		}
		for _, a := range t.Addrs {
			if !slices.Contains(m.Addrs, a) {
				m.Addrs = append(m.Addrs, a)
			}
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Target, 0, len(keys))
	for _, k := range keys {
		t := *by[k]
		if len(t.Domains) == 0 {
			t.Domains = []string{""}
		}
		out = append(out, t)
	}
	return out
}

// Exchange is one connection to one target: TLS, OPTIONS, answer.
type Exchange struct {
	Outcome Outcome
	Err     error
	Address string
	At      time.Time
	TLS     *TLSFacts // nil when no certificate was seen
	Answer  *Answer   // set when Outcome is Answered
	RTT     time.Duration
}

// exchange opens one connection to t and sends one OPTIONS. Every step is
// bounded by ctx, and the answer by SFBEX_SIP_MAX_ANSWER_BYTES.
func (p *Prober) exchange(ctx context.Context, t Target) *Exchange {
	ex := &Exchange{At: p.cfg.Now()}
	raw, addr, err := p.dial(ctx, t)
	ex.Address = addr
	if err != nil {
		ex.Outcome, ex.Err = Unreachable, err
		return ex
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	// A cancelled run ends a read at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()

	cfg := p.cfg.Web.TLSConfig(t.Host)
	cfg.InsecureSkipVerify = true //nolint:gosec // verified below, after the handshake, so that the facts are reported whatever the verdict
	var chain []*x509.Certificate
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		for _, r := range rawCerts {
			if c, err := x509.ParseCertificate(r); err == nil {
				chain = append(chain, c)
			}
		}
		return nil
	}
	facts := &TLSFacts{Name: t.Host}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		facts.ClientCertRequested = true
		if c := p.cfg.Settings.ClientCert; c != nil {
			facts.ClientCertSent, facts.ClientCertSubject = true, p.cfg.Settings.ClientCertSubject
			return c, nil
		}
		return &tls.Certificate{}, nil
	}
	conn := tls.Client(raw, cfg)
	start := time.Now()
	herr := conn.HandshakeContext(ctx)
	facts.Handshake = time.Since(start)
	if st := conn.ConnectionState(); st.Version != 0 {
		facts.Version = tls.VersionName(st.Version)
	}
	if len(chain) > 0 {
		p.verify(facts, chain, t.Host)
		ex.TLS = facts
	}
	if herr != nil {
		ex.Outcome, ex.Err = TLSFailed, fmt.Errorf("TLS handshake with %s: %w", addr, herr)
		if errors.Is(herr, context.DeadlineExceeded) || isTimeout(herr) {
			ex.Err = fmt.Errorf("TLS handshake with %s: no handshake within the deadline: %w", addr, herr)
		}
		return ex
	}

	req, callID := p.request(t, conn.LocalAddr())
	sent := time.Now()
	if _, err := conn.Write([]byte(req)); err != nil {
		ex.Outcome, ex.Err = Closed, fmt.Errorf("sending OPTIONS: %w", err)
		if re, ok := classifyRead(err, 0).(*readError); ok && re.outcome == TLSFailed {
			ex.Outcome, ex.Err = TLSFailed, re.err
		}
		return ex
	}
	a, err := readAnswer(conn, callID, p.cfg.Settings.MaxAnswerBytes)
	ex.RTT = time.Since(sent)
	if err != nil {
		ex.Outcome, ex.Err = Malformed, err
		var re *readError
		if errors.As(err, &re) {
			ex.Outcome = re.outcome
		}
		return ex
	}
	ex.Outcome, ex.Answer = Answered, a
	return ex
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dial connects where a peer would: a connect-to override if there is one,
// else the SRV target's addresses from the configured resolvers, else the
// host name through the system resolver.
func (p *Prober) dial(ctx context.Context, t Target) (net.Conn, string, error) {
	return p.cfg.Web.DialTarget(ctx, t.Key(), t.Addrs, t.Port)
}

// verify judges the chain for the name the peer connects to.
func (p *Prober) verify(f *TLSFacts, chain []*x509.Certificate, name string) {
	leaf := chain[0]
	f.LeafSubject, f.LeafNames, f.LeafNotAfter = leaf.Subject.CommonName, leaf.DNSNames, leaf.NotAfter
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	now := p.cfg.Now()
	_, err := leaf.Verify(x509.VerifyOptions{Roots: p.cfg.Web.RootCAs, Intermediates: inter, DNSName: name, CurrentTime: now})
	f.VerifyOK, f.Skipped = err == nil, p.cfg.Web.Insecure(name)
	f.VerifyReason = "ok"
	if err == nil {
		return
	}
	f.VerifyError = err.Error()
	f.VerifyReason = certs.VerifyReason(err, chain, now)
}
