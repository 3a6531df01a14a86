package cms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes"
)

// maxFiles bounds how many snapshot files one folder may hold.
const maxFiles = 500

// Config configures a Prober.
type Config struct {
	// Path is a snapshot file or a folder of them (SFBEX_CMS_SNAPSHOT_PATH).
	Path       string
	Deployment Deployment
	// SnapshotMaxAge: an older snapshot is a finding.
	SnapshotMaxAge time.Duration
	// ReplicaStaleAfter: a replica not up to date for longer is a finding.
	ReplicaStaleAfter time.Duration
	// OAuthRenewDays: inside this many days of expiry, the next Exchange
	// Auth certificate must be staged.
	OAuthRenewDays int
	// HybridAppMinBuilds is the minimum Skype for Business build per
	// product for the dedicated hybrid application
	// (SFBEX_SFB_HYBRID_APP_MIN_BUILDS); nil means support.MinHybridApp.
	HybridAppMinBuilds map[string]support.Build
	// EWS configures the Exchange Online EWS checks.
	EWS EWSConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Prober reads the snapshots on every run. It remembers each source's last
// good snapshot, so that a bad file never hides what was known, and since
// when each replica has been out of date.
type Prober struct {
	cfg Config

	mu     sync.Mutex
	good   map[string]*held     // source -> last good snapshot
	files  map[string]string    // file -> source it last held
	behind map[string]time.Time // replica FQDN -> out of date since
	gone   map[string]bool      // sources kept one run after their file vanished
}

type held struct {
	snap *Snapshot
	file string
}

// NewProber checks cfg and returns a prober.
func NewProber(cfg Config) (*Prober, error) {
	if cfg.Path == "" {
		return nil, errors.New("no snapshot path")
	}
	if cfg.SnapshotMaxAge <= 0 || cfg.ReplicaStaleAfter <= 0 || cfg.OAuthRenewDays <= 0 {
		return nil, errors.New("thresholds must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HybridAppMinBuilds == nil {
		cfg.HybridAppMinBuilds = support.MinHybridApp
	}
	return &Prober{cfg: cfg, good: map[string]*held{}, files: map[string]string{}, behind: map[string]time.Time{}}, nil
}

// Result is what the snapshots show.
type Result struct {
	Path         string      `json:"path"`
	Sources      []Source    `json:"sources"`
	InvalidFiles []FileError `json:"invalid_files,omitempty"`
	Replicas     []Replica   `json:"replicas"`
	Checks       []Check     `json:"checks"`
	// SfBServers are the Front Ends' versions and OAuthTokenIssuer
	// certificates, one per Skype for Business snapshot.
	SfBServers []SfBServer `json:"sfb_servers,omitempty"`
	// ExchangeServers are the Exchange servers' builds, one per Exchange
	// snapshot that shows one.
	ExchangeServers []ExchangeServer `json:"exchange_servers,omitempty"`
	EvaluatedAt     time.Time        `json:"evaluated_at"`

	findings []probes.Finding
}

// Source is the newest good snapshot of one server and shell.
type Source struct {
	Name              string        `json:"name"`
	Computer          string        `json:"computer"`
	Shell             string        `json:"shell"`
	ScriptVersion     string        `json:"script_version"`
	PowerShellVersion string        `json:"powershell_version"`
	File              string        `json:"file"`
	Timestamp         time.Time     `json:"timestamp"`
	Stale             bool          `json:"stale"`
	Error             string        `json:"error,omitempty"`
	CmdletErrors      []CmdletError `json:"cmdlet_errors,omitempty"`
	// FieldErrors are dates that could not be read; each counts as unknown.
	FieldErrors []FieldError `json:"field_errors,omitempty"`
}

// SfBServer is what one Front End's snapshot shows of its version and its
// OAuthTokenIssuer certificates.
type SfBServer struct {
	Server  string      `json:"server"` // the computer's FQDN, lower case
	Source  string      `json:"source"`
	Version *SfBVersion `json:"version,omitempty"`
	// SupportEnd is 00:00 UTC of the day after the last day of support;
	// nil for Subscription Edition and unknown builds.
	SupportEnd *time.Time `json:"support_end,omitempty"`
	// TokenIssuerNotAfter and NextNotAfter are the current and the staged
	// (rolled) OAuthTokenIssuer certificates' expiry; RollEffective is
	// when the staged one takes effect.
	TokenIssuerNotAfter *time.Time `json:"token_issuer_not_after,omitempty"`
	NextNotAfter        *time.Time `json:"token_issuer_next_not_after,omitempty"`
	RollEffective       *time.Time `json:"token_issuer_roll_effective,omitempty"`
}

// ExchangeServer is what one Exchange server's snapshot shows of its build.
type ExchangeServer struct {
	Server  string          `json:"server"` // the computer's FQDN, lower case
	Source  string          `json:"source"`
	Version ExchangeVersion `json:"version"`
	// SupportEnd is 00:00 UTC of the day after the last day of support;
	// nil for Subscription Edition and unknown builds.
	SupportEnd *time.Time `json:"support_end,omitempty"`
}

// FileError is a snapshot file that could not be read.
type FileError struct {
	File   string `json:"file"`
	Source string `json:"source,omitempty"` // the source it held before, if any
	Error  string `json:"error"`
}

// Replica is one CMS replica as the newest Front End snapshot shows it.
type Replica struct {
	Fqdn               string     `json:"fqdn"`
	Source             string     `json:"source"`
	UpToDate           bool       `json:"up_to_date"`
	LastUpdateCreation *time.Time `json:"last_update_creation,omitempty"`
	LastStatusReport   *time.Time `json:"last_status_report,omitempty"`
	// BehindSince is the earliest moment it is known to have been out of
	// date: the first of consecutive snapshots that showed it so, or its
	// LastUpdateCreation (an update created then is still not applied).
	BehindSince *time.Time `json:"behind_since,omitempty"`
	// SnapshotTime is when the snapshot showing it was taken.
	SnapshotTime time.Time `json:"snapshot_time"`
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

// Probe reads every snapshot and judges them.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	files, listErr := listSnapshots(p.cfg.Path)
	now := p.cfg.Now()

	p.mu.Lock()
	defer p.mu.Unlock()

	fresh := map[string]*held{}
	var bad []FileError
	for _, f := range files {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		snap, err := readSnapshot(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // replaced or removed since it was listed
		}
		if err != nil {
			bad = append(bad, FileError{File: filepath.Base(f), Source: p.files[f], Error: err.Error()})
			continue
		}
		src, _ := snap.Source()
		if h := fresh[src]; h == nil || snap.Timestamp.After(h.snap.Timestamp.Time) {
			fresh[src] = &held{snap: snap, file: f}
		}
	}

	// Keep the newest snapshot of every source still on disk; a source
	// whose file went bad keeps its last good snapshot, marked stale.
	staleSrc := map[string]string{}
	for _, b := range bad {
		if b.Source != "" {
			staleSrc[b.Source] = b.Error
		}
	}
	next := map[string]*held{}
	for src, h := range fresh {
		if old := p.good[src]; old != nil && old.snap.Timestamp.After(h.snap.Timestamp.Time) {
			h = old // newest wins, also over an older file put back
		}
		next[src] = h
	}
	for src := range staleSrc {
		if next[src] == nil && p.good[src] != nil {
			next[src] = p.good[src]
		}
	}
	// A source whose file vanished is kept, as it was, for one run: where
	// a share cannot replace a file in one step, the export script deletes
	// the old file before it renames the new one into place.
	gone := map[string]bool{}
	for src, h := range p.good {
		if next[src] != nil || listErr != nil || p.gone[src] {
			continue
		}
		if _, err := os.Lstat(h.file); errors.Is(err, fs.ErrNotExist) {
			next[src], gone[src] = h, true
		}
	}
	p.gone = gone
	if listErr != nil && len(files) == 0 {
		// The folder is gone or unreadable: show what was known, stale.
		for src, h := range p.good {
			next[src] = h
			staleSrc[src] = listErr.Error()
		}
	}
	p.good = next
	p.files = map[string]string{}
	for src, h := range next {
		p.files[h.file] = src
	}

	err := p.runError(listErr, bad, len(files))
	if len(next) == 0 {
		if err == nil {
			err = probes.WithFix(fmt.Errorf("no snapshots in %s", p.cfg.Path),
				"Schedule scripts/Export-SfbexSnapshot.ps1 on a Front End and an Exchange server to write into this folder, or to POST to /api/snapshots (docs/cms-snapshots.md).")
		}
		return nil, err
	}
	return p.judge(next, staleSrc, bad, now), err
}

func (p *Prober) runError(listErr error, bad []FileError, n int) error {
	var errs []error
	if listErr != nil {
		errs = append(errs, probes.WithFix(listErr,
			"Point SFBEX_CMS_SNAPSHOT_PATH at the snapshot file or the folder the export script writes to, readable by the agent."))
	}
	for _, b := range bad {
		what := "the agent keeps no data from it"
		if b.Source != "" {
			what = "the agent keeps showing the last good snapshot of " + b.Source + ", marked stale"
		}
		errs = append(errs, probes.WithFix(fmt.Errorf("snapshot %s: %s", b.File, b.Error),
			"Re-run scripts/Export-SfbexSnapshot.ps1 on the server that wrote it and check its output against docs/cms-snapshots.md; until then "+what+"."))
	}
	return errors.Join(errs...)
}

// listSnapshots lists the snapshot files under path: the file itself, or
// the folder's *.json files (not hidden ones, which are uploads in flight).
func listSnapshots(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot path: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot folder: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.EqualFold(filepath.Ext(n), ".json") || !e.Type().IsRegular() {
			continue
		}
		out = append(out, filepath.Join(path, n))
	}
	if len(out) > maxFiles {
		return out[:maxFiles], fmt.Errorf("snapshot folder %s holds %d snapshots, more than the %d the agent reads; remove old ones (one file per server is enough)", path, len(out), maxFiles)
	}
	return out, nil
}

func readSnapshot(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, errors.New("cannot read it: permission denied")
		}
		return nil, err
	}
	defer f.Close()
	// Say how big an oversized file is without reading it: the limit bounds
	// what is read, so a huge file costs nothing.
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxSnapshotBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d a snapshot may have", fi.Size(), MaxSnapshotBytes)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSnapshotBytes+1))
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// judge builds the result from the held snapshots.
func (p *Prober) judge(held map[string]*held, staleSrc map[string]string, bad []FileError, now time.Time) *Result {
	r := &Result{Path: p.cfg.Path, InvalidFiles: bad, EvaluatedAt: now, Replicas: []Replica{}, Checks: []Check{}}
	names := make([]string, 0, len(held))
	for n := range held {
		names = append(names, n)
	}
	sort.Strings(names)

	var checks []Check
	newest := map[string]Replica{}
	for _, n := range names {
		h := held[n]
		s := h.snap
		src := Source{
			Name: n, Computer: clipText(string(firstNonEmpty(s.ComputerFqdn, s.ComputerName)), 100), Shell: string(s.Shell),
			ScriptVersion: clipText(string(s.ScriptVersion), 40), PowerShellVersion: clipText(strings.TrimSpace(string(s.PSVersion)+" "+string(s.PSEdition)), 60),
			File: filepath.Base(h.file), Timestamp: s.Timestamp.Time, Error: staleSrc[n], Stale: staleSrc[n] != "",
		}
		for _, e := range s.Errors {
			src.CmdletErrors = append(src.CmdletErrors, CmdletError{Section: Text(clipText(string(e.Section), 60)), Cmdlet: Text(clipText(string(e.Cmdlet), 60)), Message: Text(clipText(string(e.Message), 300))})
		}
		for _, e := range s.FieldErrors {
			src.FieldErrors = append(src.FieldErrors, FieldError{Field: clipText(e.Field, 120), Error: clipText(e.Error, 300)})
		}
		r.Sources = append(r.Sources, src)
		switch {
		case s.SkypeForBusiness != nil && s.Shell == ShellSfB:
			checks = append(checks, sfbChecks(n, s.SkypeForBusiness, p.cfg.Deployment, now, p.cfg.OAuthRenewDays, p.cfg.HybridAppMinBuilds)...)
			r.SfBServers = append(r.SfBServers, sfbServer(n, src.Computer, s.SkypeForBusiness))
			for _, rs := range s.SkypeForBusiness.ReplicationStatus {
				fqdn := strings.ToLower(strings.TrimSpace(string(rs.ReplicaFqdn)))
				if fqdn == "" || !rs.UpToDate.Known {
					continue
				}
				rep := Replica{Fqdn: clipText(fqdn, 128), Source: n, UpToDate: rs.UpToDate.Value, SnapshotTime: s.Timestamp.Time,
					LastUpdateCreation: timePtr(rs.LastUpdateCreation), LastStatusReport: timePtr(rs.LastStatusReport)}
				if old, ok := newest[rep.Fqdn]; !ok || rep.SnapshotTime.After(old.SnapshotTime) {
					newest[rep.Fqdn] = rep
				}
			}
		case s.Exchange != nil && s.Shell == ShellExchange:
			checks = append(checks, exchangeChecks(n, s.Exchange, p.cfg.Deployment, now, p.cfg.OAuthRenewDays)...)
			checks = append(checks, hybridAppChecks(n, string(firstNonEmpty(s.ComputerFqdn, s.ComputerName)), s.Exchange, p.cfg.Deployment)...)
			if v, ok := exchangeVersion(s.Exchange); ok {
				es := ExchangeServer{Server: strings.ToLower(src.Computer), Source: n, Version: v}
				if v.known && !v.product.EndOfSupport.IsZero() {
					end := v.product.EndOfSupport.AddDate(0, 0, 1)
					es.SupportEnd = &end
				}
				r.ExchangeServers = append(r.ExchangeServers, es)
			}
		}
		checks = append(checks, exchangeOnlineChecks(n, s.ExchangeOnline, p.cfg.Deployment, p.cfg.EWS, now)...)
	}
	r.Checks = append(r.Checks, mergeChecks(checks)...)

	// Track since when each replica is out of date, across snapshots.
	behind := map[string]time.Time{}
	for _, fqdn := range slicesSorted(newest) {
		rep := newest[fqdn]
		if !rep.UpToDate {
			since, ok := p.behind[fqdn]
			if !ok || rep.SnapshotTime.Before(since) {
				since = rep.SnapshotTime
			}
			if rep.LastUpdateCreation != nil && rep.LastUpdateCreation.Before(since) {
				since = *rep.LastUpdateCreation
			}
			behind[fqdn] = since
			rep.BehindSince = &since
		}
		r.Replicas = append(r.Replicas, rep)
	}
	p.behind = behind
	r.findings = p.findings(r, now)
	return r
}

func (p *Prober) findings(r *Result, now time.Time) []probes.Finding {
	var fs []probes.Finding
	for _, s := range r.Sources {
		if age := now.Sub(s.Timestamp); age > p.cfg.SnapshotMaxAge {
			fs = append(fs, probes.Finding{Severity: probes.Warning, Subject: "CMS snapshot " + s.Name,
				Problem: fmt.Sprintf("the newest snapshot was taken %s ago (%s), more than SFBEX_CMS_SNAPSHOT_MAX_AGE=%s: the scheduled export stopped, so replication and settings shown here are out of date",
					age.Truncate(time.Second), s.Timestamp.UTC().Format(time.RFC3339), p.cfg.SnapshotMaxAge),
				Fix: fmt.Sprintf("On %s run Get-ScheduledTask -TaskName sfbex-snapshot | Get-ScheduledTaskInfo (LastRunTime, LastTaskResult), fix what stops it, then Start-ScheduledTask -TaskName sfbex-snapshot (docs/cms-snapshots.md)", s.Computer)})
		}
		for _, e := range s.CmdletErrors {
			fs = append(fs, cmdletFinding(s, e))
		}
		if len(s.FieldErrors) > 0 {
			var parts []string
			for _, e := range s.FieldErrors {
				parts = append(parts, e.Field+": "+e.Error)
			}
			fs = append(fs, probes.Finding{Severity: probes.Warning, Subject: "CMS snapshot " + s.Name + " dates",
				Problem: "dates the agent cannot read, each counted as unknown so the checks that need it are left out (the rest of the snapshot is used): " + strings.Join(parts, "; "),
				Fix:     "On " + s.Computer + " run scripts/Export-SfbexSnapshot.ps1 1.1.0 or later, which writes every date in the invariant culture (ISO 8601 round-trip, UTC) whatever the server's culture"})
		}
	}
	for _, rep := range r.Replicas {
		if rep.BehindSince == nil {
			continue
		}
		if d := rep.SnapshotTime.Sub(*rep.BehindSince); d > p.cfg.ReplicaStaleAfter {
			fs = append(fs, probes.Finding{Severity: probes.Critical, Subject: "CMS replica " + rep.Fqdn,
				Problem: fmt.Sprintf("not up to date for at least %s (since %s; SFBEX_CMS_REPLICA_STALE_AFTER=%s): it runs an old configuration, e.g. hosting provider and federation changes have not reached it",
					d.Truncate(time.Second), rep.BehindSince.UTC().Format(time.RFC3339), p.cfg.ReplicaStaleAfter),
				Fix: fmt.Sprintf("Confirm with Get-CsManagementStoreReplicationStatus -ReplicaFqdn %s; on %s check the Replica Replicator Agent service (Get-Service REPLICA) and port 4443 from the Front End, then Invoke-CsManagementStoreReplication -ReplicaFqdn %s", rep.Fqdn, rep.Fqdn, rep.Fqdn)})
		}
	}
	for _, c := range r.Checks {
		if c.Pass {
			continue
		}
		fs = append(fs, probes.Finding{Severity: c.Severity, Subject: fmt.Sprintf("integration check %s/%s (%s)", c.Component, c.Check, strings.Join(c.Failing, ", ")),
			Problem: c.Problem + ". " + c.Explanation,
			Fix:     "Fix: " + c.Fix + ". Confirm with " + strings.Fields(c.Setting)[0] + "."})
	}
	return fs
}

// cmdletFinding explains one thing the script could not export.
func cmdletFinding(s Source, e CmdletError) probes.Finding {
	sec, cmdlet, msg := string(e.Section), string(e.Cmdlet), string(e.Message)
	if sec == "ComputerFqdn" {
		return probes.Finding{Severity: probes.Warning, Subject: "CMS snapshot " + s.Name + " name lookup",
			Problem: "the server could not resolve its own name in DNS (" + msg + "); the script named it from its local configuration, so the source name may differ from earlier snapshots",
			Fix:     "On " + s.Computer + " check the DNS client settings and its host record: Resolve-DnsName $env:COMPUTERNAME"}
	}
	if strings.HasPrefix(sec, ExchangeOnlineSection+".") {
		return probes.Finding{Severity: probes.Warning, Subject: "CMS snapshot " + s.Name + " section " + sec + " (" + cmdlet + ")",
			Problem: "section " + sec + " (" + cmdlet + ") not exported: " + msg + "; the Exchange Online EWS checks that read it are left out, not judged on an empty list",
			Fix:     "On " + s.Computer + ", as the task's account, check the ExchangeOnlineManagement module, the Entra app (Exchange.ManageAsApp with admin consent, Global Reader role), its certificate and -ExchangeOnlineOrganization / -ExchangeOnlineEnvironment: Connect-ExchangeOnline -AppId <id> -CertificateThumbprint <thumbprint> -Organization <tenant>.onmicrosoft.com (docs/configuration.md#cms-snapshots)"}
	}
	what := cmdlet
	if sec != "" {
		what = "section " + sec + " (" + cmdlet + ")"
	}
	return probes.Finding{Severity: probes.Warning, Subject: "CMS snapshot " + s.Name + " " + what,
		Problem: what + " not exported: " + msg + "; the checks that read it are left out, not judged on an empty list",
		Fix:     "Run " + cmdlet + " -ErrorAction Stop as the task's account on " + s.Computer + "; it needs RTCUniversalReadOnlyAdmins (Skype for Business) or View-Only Organization Management (Exchange)"}
}

// Details lists sources, replicas and checks for the status page.
func (r *Result) Details() []string {
	var out []string
	for _, s := range r.Sources {
		line := fmt.Sprintf("snapshot %s: %s, %s shell, PowerShell %s, script %s, file %s", s.Name, s.Timestamp.UTC().Format(time.RFC3339), s.Shell, s.PowerShellVersion, s.ScriptVersion, s.File)
		if s.Stale {
			line += " (stale: the newest file is invalid)"
		}
		out = append(out, line)
	}
	for _, s := range r.Sources {
		for _, e := range s.CmdletErrors {
			if e.Section == "ComputerFqdn" {
				out = append(out, fmt.Sprintf("snapshot %s: the server could not resolve its own name: %s", s.Name, e.Message))
				continue
			}
			out = append(out, fmt.Sprintf("snapshot %s: %s not exported: %s", s.Name, firstNonEmpty(e.Section, e.Cmdlet), e.Message))
		}
		for _, e := range s.FieldErrors {
			out = append(out, fmt.Sprintf("snapshot %s: date %s unreadable: %s", s.Name, e.Field, e.Error))
		}
	}
	for _, b := range r.InvalidFiles {
		out = append(out, fmt.Sprintf("invalid file %s: %s", b.File, b.Error))
	}
	for _, rep := range r.Replicas {
		line := fmt.Sprintf("replica %s: up to date %v", rep.Fqdn, rep.UpToDate)
		if rep.LastUpdateCreation != nil {
			line += ", last update created " + rep.LastUpdateCreation.UTC().Format(time.RFC3339)
		}
		if rep.BehindSince != nil {
			line += ", behind since " + rep.BehindSince.UTC().Format(time.RFC3339)
		}
		out = append(out, line)
	}
	for _, sv := range r.SfBServers {
		if v := sv.Version; v != nil {
			line := fmt.Sprintf("server %s: build %s, product %s", sv.Server, v.Build, v.Product)
			if sv.SupportEnd != nil {
				line += ", support ended or ends " + sv.SupportEnd.AddDate(0, 0, -1).Format("2006-01-02")
			}
			out = append(out, line)
		}
		if sv.TokenIssuerNotAfter != nil {
			line := fmt.Sprintf("server %s: OAuthTokenIssuer certificate expires %s", sv.Server, sv.TokenIssuerNotAfter.UTC().Format(time.RFC3339))
			if sv.NextNotAfter != nil {
				line += ", rolled one staged (expires " + sv.NextNotAfter.UTC().Format(time.RFC3339)
				if sv.RollEffective != nil {
					line += ", takes effect " + sv.RollEffective.UTC().Format(time.RFC3339)
				}
				line += ")"
			}
			out = append(out, line)
		}
	}
	for _, es := range r.ExchangeServers {
		v := es.Version
		line := fmt.Sprintf("exchange server %s: build %s (%s), product %s", es.Server, v.Build, map[string]string{ExSetupSource: "ExSetup.exe file version", AdminDisplayVersionSource: "AdminDisplayVersion, the cumulative update only"}[v.From], v.Product)
		if es.SupportEnd != nil {
			line += ", support ended or ends " + es.SupportEnd.AddDate(0, 0, -1).Format("2006-01-02")
		}
		out = append(out, line)
	}
	for _, c := range r.Checks {
		out = append(out, fmt.Sprintf("check %s/%s: %s (%s; %s)", c.Component, c.Check, map[bool]string{true: "pass", false: "FAIL"}[c.Pass], c.Setting, strings.Join(c.Sources, ", ")))
	}
	return out
}

// sfbServer collects one Front End's version and certificates.
func sfbServer(source, computer string, d *SfBData) SfBServer {
	sv := SfBServer{Server: strings.ToLower(computer), Source: source}
	if v, ok := sfbVersion(d); ok {
		sv.Version = &v
		if v.known && !v.product.EndOfSupport.IsZero() {
			end := v.product.EndOfSupport.AddDate(0, 0, 1)
			sv.SupportEnd = &end
		}
	}
	if cur, next := tokenIssuerCerts(d.OAuthTokenIssuerCertificates); cur != nil {
		sv.TokenIssuerNotAfter = timePtr(cur.NotAfter)
		if next != nil {
			sv.NextNotAfter = timePtr(next.NotAfter)
			if !next.EffectiveDate.Unknown() {
				sv.RollEffective = timePtr(next.EffectiveDate)
			}
		}
	}
	return sv
}

func firstNonEmpty(ts ...Text) Text {
	for _, t := range ts {
		if strings.TrimSpace(string(t)) != "" {
			return t
		}
	}
	return ""
}

func timePtr(t Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

func slicesSorted[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
