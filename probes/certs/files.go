package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// FilesConfig configures the probe of certificates exported to disk.
type FilesConfig struct {
	// Patterns are filepath.Glob patterns.
	Patterns []string
	// Password opens PFX/PKCS#12 files. It never leaves this package: not in
	// errors, results or logs.
	Password config.Secret
	Limits   Thresholds
	// MaxFiles bounds the files one pattern may match (default 256).
	MaxFiles int
	// MaxBytes bounds one file (default 1 MiB; certificates are a few KiB).
	MaxBytes int64
	Now      func() time.Time
}

// FilesProber reads certificate files: PEM (any number of certificates),
// DER, and PFX/PKCS#12. A file that cannot be read or parsed (mid-rewrite,
// wrong password) shows its last good certificates, marked stale.
type FilesProber struct {
	cfg FilesConfig

	mu   sync.Mutex
	last map[string]*fileState
}

type fileState struct {
	format string
	certs  []*x509.Certificate
	at     time.Time
}

// NewFilesProber returns a prober for cfg.
func NewFilesProber(cfg FilesConfig) (*FilesProber, error) {
	if len(cfg.Patterns) == 0 {
		return nil, errors.New("no certificate file pattern")
	}
	for _, p := range cfg.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%q is not a valid glob pattern: %v", p, err)
		}
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = 256
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &FilesProber{cfg: cfg, last: map[string]*fileState{}}, nil
}

// FilesResult is one run over every pattern.
type FilesResult struct {
	Patterns []PatternResult `json:"patterns"`
	Files    []FileResult    `json:"files"`
	findings []probes.Finding
}

// Findings implements probes.Result.
func (r *FilesResult) Findings() []probes.Finding { return r.findings }

// PatternResult says how many files a pattern matched.
type PatternResult struct {
	Pattern string `json:"pattern"`
	Matched int    `json:"matched"`
}

// FileResult is what is known about one file.
type FileResult struct {
	Path   string `json:"path"`
	Format string `json:"format,omitempty"` // pem, der or pfx
	Up     bool   `json:"up"`
	Known  bool   `json:"known"`
	Stale  bool   `json:"stale"`
	Error  string `json:"error,omitempty"`
	// ReadAt is when the certificates shown were read.
	ReadAt time.Time  `json:"read_at"`
	Certs  []FileCert `json:"certs"`
}

// FileCert is one certificate in a file.
type FileCert struct {
	Cert
	Role string `json:"role"` // leaf or ca
}

// Probe reads every file the patterns match.
func (p *FilesProber) Probe(ctx context.Context) (probes.Result, error) {
	var errs []error
	res := &FilesResult{}
	var paths []string
	seen := map[string]bool{}
	for _, pat := range p.cfg.Patterns {
		matches, err := filepath.Glob(pat)
		if err != nil { // only ErrBadPattern, checked at start
			errs = append(errs, err)
			continue
		}
		sort.Strings(matches)
		n := 0
		for _, m := range matches {
			if fi, err := os.Stat(m); err != nil || fi.IsDir() {
				continue
			}
			n++
			if n > p.cfg.MaxFiles {
				errs = append(errs, probes.WithFix(fmt.Errorf("%s matches more than %d files; only the first %d are read", pat, p.cfg.MaxFiles, p.cfg.MaxFiles),
					"Narrow the pattern in SFBEX_CERT_FILES to the exported certificates."))
				break
			}
			if !seen[m] {
				seen[m] = true
				paths = append(paths, m)
			}
		}
		res.Patterns = append(res.Patterns, PatternResult{Pattern: pat, Matched: min(n, p.cfg.MaxFiles)})
	}
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, path := range paths {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		fr := FileResult{Path: path}
		format, certs, err := p.read(path)
		if err == nil {
			p.last[path] = &fileState{format: format, certs: certs, at: now}
			fr.Up = true
		} else {
			fr.Error = err.Error()
			errs = append(errs, probes.WithFix(fmt.Errorf("%s: %w", path, err), fileFix(err)))
		}
		if st := p.last[path]; st != nil {
			fr.Known, fr.Stale, fr.ReadAt, fr.Format = true, !fr.Up, st.at, st.format
			seenCert := map[string]bool{}
			for _, c := range st.certs {
				d := Describe(c)
				if seenCert[d.Thumbprint] {
					continue
				}
				seenCert[d.Thumbprint] = true
				role := "leaf"
				if c.IsCA {
					role = "ca"
				}
				fr.Certs = append(fr.Certs, FileCert{Cert: d, Role: role})
			}
		}
		res.Files = append(res.Files, fr)
	}
	for path := range p.last { // files that are gone are no longer reported
		if !seen[path] {
			delete(p.last, path)
		}
	}
	p.judge(res, now)
	return res, errors.Join(errs...)
}

// errWrongPassword hides the library's error, which is fine, behind one
// that says what to do; neither carries the password.
var errWrongPassword = errors.New("the PFX password is wrong")

func fileFix(err error) string {
	switch {
	case errors.Is(err, errWrongPassword):
		return "Set SFBEX_CERT_FILES_PASSWORD (or SFBEX_CERT_FILES_PASSWORD_FILE) to the password the file was exported with (Export-PfxCertificate -Password); see docs/runbooks.md#certificate-file-expiring-or-unreadable."
	case errors.Is(err, os.ErrPermission):
		return "Let the agent's user read the file (it needs read access only)."
	default:
		return "Export the certificate again as PEM, DER (.cer) or PFX; until then its last good certificates are shown; see docs/runbooks.md#certificate-file-expiring-or-unreadable."
	}
}

// read parses one file.
func (p *FilesProber) read(path string) (string, []*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, p.cfg.MaxBytes+1))
	if err != nil {
		return "", nil, err
	}
	if int64(len(b)) > p.cfg.MaxBytes {
		return "", nil, fmt.Errorf("larger than %d bytes: not a certificate file", p.cfg.MaxBytes)
	}
	return ParseCertFile(b, p.cfg.Password)
}

// ParseCertFile reads PEM (every CERTIFICATE block; keys are ignored), DER
// (one or more concatenated certificates) or PFX/PKCS#12 opened with
// password. It returns the format and the certificates, leaf first for PFX.
func ParseCertFile(b []byte, password config.Secret) (string, []*x509.Certificate, error) {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		var certs []*x509.Certificate
		rest := b
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return "pem", nil, fmt.Errorf("PEM certificate %d: %v", len(certs)+1, err)
			}
			certs = append(certs, c)
		}
		if bytes.Contains(rest, []byte("-----BEGIN")) {
			// A file caught mid-write: do not report part of it as all of it.
			return "pem", nil, fmt.Errorf("PEM block %d is incomplete", len(certs)+1)
		}
		if len(certs) == 0 {
			return "pem", nil, errors.New("a PEM file without a CERTIFICATE block")
		}
		return "pem", certs, nil
	}
	if certs, err := x509.ParseCertificates(b); err == nil && len(certs) > 0 {
		return "der", certs, nil
	}
	_, leaf, cas, err := pkcs12.DecodeChain(b, password.Reveal()) // the key is not kept: the agent only reads certificates
	if err == nil {
		return "pfx", append([]*x509.Certificate{leaf}, cas...), nil
	}
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return "pfx", nil, errWrongPassword
	}
	if certs, terr := pkcs12.DecodeTrustStore(b, password.Reveal()); terr == nil && len(certs) > 0 {
		return "pfx", certs, nil
	}
	if strings.HasPrefix(err.Error(), "pkcs12: error reading P12 data") {
		return "", nil, errors.New("neither PEM, DER nor PFX")
	}
	return "pfx", nil, fmt.Errorf("cannot read the PFX: %v", err)
}

func (p *FilesProber) judge(res *FilesResult, now time.Time) {
	lim := p.cfg.Limits
	add := func(sev probes.Severity, subject, problem, fix string) {
		res.findings = append(res.findings, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
	}
	for _, pr := range res.Patterns {
		if pr.Matched == 0 {
			add(probes.Warning, "SFBEX_CERT_FILES pattern "+pr.Pattern, "matches no file: the export that writes it may have stopped",
				"Check the scheduled task that exports the certificate, and the pattern in SFBEX_CERT_FILES; see docs/runbooks.md#certificate-file-expiring-or-unreadable.")
		}
	}
	for _, fr := range res.Files {
		for _, c := range fr.Certs {
			subject := fmt.Sprintf("certificate %q in %s", c.SubjectCN, fr.Path)
			left := c.DaysLeft(now)
			fix := "Renew the certificate where it is used and export the new one to " + fr.Path + "; see docs/runbooks.md#certificate-file-expiring-or-unreadable."
			switch {
			case c.Expired(now):
				add(probes.Critical, subject, fmt.Sprintf("expired on %s", day(c.NotAfter)), fix)
			case c.NotYetValid(now):
				add(probes.Warning, subject, fmt.Sprintf("is not valid until %s", day(c.NotBefore)), fix)
			case left < float64(lim.CriticalDays):
				add(probes.Critical, subject, fmt.Sprintf("expires in %s (%s)", days(left), day(c.NotAfter)), fix)
			case left < float64(lim.WarnDays):
				add(probes.Warning, subject, fmt.Sprintf("expires in %s (%s)", days(left), day(c.NotAfter)), fix)
			}
		}
	}
}

// Details lists every file and its certificates, with days left counted now.
func (r *FilesResult) Details() []string {
	now := time.Now()
	var out []string
	for _, pr := range r.Patterns {
		out = append(out, fmt.Sprintf("pattern %s: %d file(s)", pr.Pattern, pr.Matched))
	}
	for _, fr := range r.Files {
		line := fr.Path
		if fr.Format != "" {
			line += " (" + fr.Format + ")"
		}
		switch {
		case !fr.Known:
			out = append(out, line+": never read: "+fr.Error)
			continue
		case fr.Stale:
			line += fmt.Sprintf(" [stale: showing what was read %s; latest: %s]", fr.ReadAt.UTC().Format(time.RFC3339), fr.Error)
		}
		out = append(out, line)
		for _, c := range fr.Certs {
			out = append(out, "  "+c.Role+": "+c.Line(now))
		}
	}
	return out
}
