// Package export runs the settings export (scripts/Export-SfbexSnapshot.ps1)
// on the agent's own schedule, on a Windows Front End or Exchange server
// where the agent runs as a service, so that no separate scheduled task is
// needed there. Off unless SFBEX_EXPORT_SCRIPT is set; Windows only.
package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Vars are the export's variables.
type Vars struct {
	Script       string        `env:"SFBEX_EXPORT_SCRIPT"`
	OutputFolder string        `env:"SFBEX_EXPORT_OUTPUT_FOLDER"`
	URI          string        `env:"SFBEX_EXPORT_URI"`
	TokenFile    string        `env:"SFBEX_EXPORT_TOKEN_FILE"`
	PowerShell   string        `env:"SFBEX_EXPORT_POWERSHELL, default=powershell.exe"`
	Interval     time.Duration `env:"SFBEX_EXPORT_INTERVAL, default=15m"`
	Timeout      time.Duration `env:"SFBEX_EXPORT_TIMEOUT, default=5m"`
	// The script's optional parts, passed on as its parameters: Exchange
	// Online's EWS settings (Connect-ExchangeOnline, app-only) and the
	// Teams tenant's federation settings (Connect-MicrosoftTeams).
	EXOAppID            string `env:"SFBEX_EXPORT_EXO_APP_ID"`
	EXOOrganization     string `env:"SFBEX_EXPORT_EXO_ORGANIZATION"`
	EXOCertThumbprint   string `env:"SFBEX_EXPORT_EXO_CERTIFICATE_THUMBPRINT"`
	EXOCertFile         string `env:"SFBEX_EXPORT_EXO_CERTIFICATE_FILE"`
	EXOCertPasswordFile string `env:"SFBEX_EXPORT_EXO_CERTIFICATE_PASSWORD_FILE"`
	EXOEnvironment      string `env:"SFBEX_EXPORT_EXO_ENVIRONMENT"`
	TeamsTenantID       string `env:"SFBEX_EXPORT_TEAMS_TENANT_ID"`
	TeamsAppID          string `env:"SFBEX_EXPORT_TEAMS_APP_ID"`
	TeamsCertThumbprint string `env:"SFBEX_EXPORT_TEAMS_CERTIFICATE_THUMBPRINT"`
}

// The probe label of the export's check.
const probe = "export"

// Checks returns the export's check, or none when SFBEX_EXPORT_SCRIPT is
// unset. goos is the system the agent runs on: anywhere but Windows the
// export cannot run (it needs the server's Skype for Business or Exchange
// cmdlets), and a set SFBEX_EXPORT_SCRIPT is refused rather than ignored.
func Checks(src config.Source, goos string) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(src, &v); err != nil {
		return nil, err
	}
	if v.Script == "" {
		return nil, nil
	}
	if goos != "windows" {
		return nil, errors.New("SFBEX_EXPORT_SCRIPT is set, but the agent runs the settings export only on Windows, on a Front End or Exchange server with their cmdlets; here, unset it and run scripts/Export-SfbexSnapshot.ps1 on that server (-Uri/-TokenFile posts to this agent: docs/cms-snapshots.md)")
	}
	if err := config.Schedule("SFBEX_EXPORT", v.Interval, v.Timeout); err != nil {
		return nil, err
	}
	args, err := arguments(v)
	if err != nil {
		return nil, err
	}
	r := &Runner{Name: v.PowerShell, Args: args}
	return []*probes.Check{{Probe: probe, Target: v.Script, Interval: v.Interval, Timeout: v.Timeout, Run: r.Run}}, nil
}

// arguments is powershell.exe's command line: the one docs/cms-snapshots.md
// gives for running the export by hand.
func arguments(v Vars) ([]string, error) {
	args := []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", v.Script}
	switch {
	case v.OutputFolder != "" && v.URI == "" && v.TokenFile == "":
		args = append(args, "-OutputFolder", v.OutputFolder)
	case v.OutputFolder == "" && v.URI != "" && v.TokenFile != "":
		if _, err := config.HTTPSURL("SFBEX_EXPORT_URI", v.URI, "https://sfbex.contoso.com:9726/api/snapshots"); err != nil {
			return nil, err
		}
		args = append(args, "-Uri", v.URI, "-TokenFile", v.TokenFile)
	default:
		return nil, errors.New(`SFBEX_EXPORT_SCRIPT needs either SFBEX_EXPORT_OUTPUT_FOLDER (the folder SFBEX_CMS_SNAPSHOT_PATH reads) or both SFBEX_EXPORT_URI and SFBEX_EXPORT_TOKEN_FILE (post to an agent), not both; e.g. SFBEX_EXPORT_OUTPUT_FOLDER=C:\ProgramData\sfbex_exporter\snapshots`)
	}
	exo, err := exoArguments(v)
	if err != nil {
		return nil, err
	}
	teams, err := teamsArguments(v)
	if err != nil {
		return nil, err
	}
	return append(append(args, exo...), teams...), nil
}

// exoEnvironments are Connect-ExchangeOnline's -ExchangeEnvironmentName
// values the script accepts, one per cloud.
var exoEnvironments = []string{"O365Default", "O365USGovGCCHigh", "O365USGovDoD", "O365China"}

// exoArguments are the script's Exchange Online parameters. The script
// refuses an incomplete set when it runs; the agent says so at start.
func exoArguments(v Vars) ([]string, error) {
	if v.EXOAppID == "" && v.EXOOrganization == "" && v.EXOCertThumbprint == "" && v.EXOCertFile == "" && v.EXOCertPasswordFile == "" && v.EXOEnvironment == "" {
		return nil, nil
	}
	if !config.IsGUID(v.EXOAppID) {
		return nil, config.Invalid("SFBEX_EXPORT_EXO_APP_ID", v.EXOAppID, "the application (client) ID of the Entra app the export connects to Exchange Online with (the Exchange Online part needs it)", "11111111-2222-3333-4444-555555555555")
	}
	if !strings.HasSuffix(strings.ToLower(v.EXOOrganization), ".onmicrosoft.com") && !strings.HasSuffix(strings.ToLower(v.EXOOrganization), ".onmicrosoft.us") && !strings.HasSuffix(strings.ToLower(v.EXOOrganization), ".partner.onmschina.cn") {
		return nil, config.Invalid("SFBEX_EXPORT_EXO_ORGANIZATION", v.EXOOrganization, "the tenant's initial domain, as Connect-ExchangeOnline -Organization takes it", "contoso.onmicrosoft.com")
	}
	if (v.EXOCertThumbprint == "") == (v.EXOCertFile == "") {
		return nil, errors.New("the Exchange Online part of the export needs one of SFBEX_EXPORT_EXO_CERTIFICATE_THUMBPRINT (a certificate in the service account's store) and SFBEX_EXPORT_EXO_CERTIFICATE_FILE (a .pfx file), not both")
	}
	if v.EXOCertPasswordFile != "" && v.EXOCertFile == "" {
		return nil, errors.New("SFBEX_EXPORT_EXO_CERTIFICATE_PASSWORD_FILE is the password of SFBEX_EXPORT_EXO_CERTIFICATE_FILE, which is not set")
	}
	args := []string{"-ExchangeOnlineAppId", v.EXOAppID, "-ExchangeOnlineOrganization", v.EXOOrganization}
	if v.EXOCertThumbprint != "" {
		args = append(args, "-ExchangeOnlineCertificateThumbprint", v.EXOCertThumbprint)
	} else {
		args = append(args, "-ExchangeOnlineCertificateFilePath", v.EXOCertFile)
		if v.EXOCertPasswordFile != "" {
			args = append(args, "-ExchangeOnlineCertificatePasswordFile", v.EXOCertPasswordFile)
		}
	}
	if v.EXOEnvironment != "" {
		i := slices.IndexFunc(exoEnvironments, func(e string) bool { return strings.EqualFold(e, strings.TrimSpace(v.EXOEnvironment)) })
		if i < 0 {
			return nil, fmt.Errorf("SFBEX_EXPORT_EXO_ENVIRONMENT=%q is not one of %s (Connect-ExchangeOnline -ExchangeEnvironmentName of the tenant's cloud); e.g. SFBEX_EXPORT_EXO_ENVIRONMENT=O365USGovGCCHigh",
				v.EXOEnvironment, strings.Join(exoEnvironments, ", "))
		}
		args = append(args, "-ExchangeOnlineEnvironment", exoEnvironments[i])
	}
	return args, nil
}

// teamsArguments are the script's Teams parameters: all three or none.
func teamsArguments(v Vars) ([]string, error) {
	set := 0
	for _, s := range []string{v.TeamsTenantID, v.TeamsAppID, v.TeamsCertThumbprint} {
		if s != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, nil
	case set != 3:
		return nil, errors.New("the Teams part of the export needs SFBEX_EXPORT_TEAMS_TENANT_ID, SFBEX_EXPORT_TEAMS_APP_ID and SFBEX_EXPORT_TEAMS_CERTIFICATE_THUMBPRINT together (Connect-MicrosoftTeams with app-only certificate authentication), or none of them")
	case !config.IsGUID(v.TeamsAppID):
		return nil, config.Invalid("SFBEX_EXPORT_TEAMS_APP_ID", v.TeamsAppID, "the application (client) ID of the Entra app the export connects to Teams with", "11111111-2222-3333-4444-555555555555")
	}
	return []string{"-TeamsTenantId", v.TeamsTenantID, "-TeamsApplicationId", v.TeamsAppID, "-TeamsCertificateThumbprint", v.TeamsCertThumbprint}, nil
}

// maxTail is how much of the script's output is kept: the end, where
// PowerShell writes the error that stopped it.
const maxTail = 16 << 10

// Runner runs one command per Run, under the run's deadline.
type Runner struct {
	Name string
	Args []string
}

// Result is one run of the export.
type Result struct {
	ExitCode    int      `json:"exit_code"` // -1: killed at the deadline
	OutputBytes int64    `json:"output_bytes"`
	Tail        []string `json:"tail"` // the last lines of stdout and stderr
	Duration    time.Duration
}

// Run runs the command. A run that exits 0 is a result; one that exits
// otherwise or is killed at the deadline is a result and an error, so the
// status page shows the output's last lines next to the error.
func (r *Runner) Run(ctx context.Context) (probes.Result, error) {
	cmd := exec.CommandContext(ctx, r.Name, r.Args...)
	out := &tail{max: maxTail}
	cmd.Stdout, cmd.Stderr = out, out
	// A child that keeps the output open after the script is killed must
	// not keep the run waiting.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := &Result{ExitCode: cmd.ProcessState.ExitCode(), OutputBytes: out.total, Tail: out.lines(), Duration: time.Since(start)}
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		res.ExitCode = -1
		return res, probes.WithFix(fmt.Errorf("the export did not finish within its timeout (%s) and was stopped", res.Duration.Truncate(time.Second)),
			"run it by hand on this server to see where it hangs; raise SFBEX_EXPORT_TIMEOUT if the cmdlets are only slow")
	case cmd.ProcessState == nil:
		return nil, probes.WithFix(fmt.Errorf("cannot start %s: %w", r.Name, err), "check SFBEX_EXPORT_POWERSHELL (default powershell.exe)")
	}
	return res, probes.WithFix(fmt.Errorf("the export exited with code %d", res.ExitCode),
		"read the output's last lines in the details; the script's own errors name the cmdlet (docs/runbooks.md#settings-export-failing)")
}

// Findings: a failed export is the run's error, not a finding.
func (r *Result) Findings() []probes.Finding { return nil }

// Details are the output's last lines.
func (r *Result) Details() []string {
	d := []string{fmt.Sprintf("exit code %d after %s, %d bytes of output", r.ExitCode, r.Duration.Truncate(time.Millisecond), r.OutputBytes)}
	return append(d, r.Tail...)
}

var (
	exitCodeDesc    = prometheus.NewDesc("sfbex_export_exit_code", "Exit code of the last run of the scheduled settings export; -1 when it was stopped at its timeout.", nil, nil)
	outputBytesDesc = prometheus.NewDesc("sfbex_export_output_bytes", "Bytes the last run of the scheduled settings export wrote to stdout and stderr.", nil, nil)
)

// AppendMetrics renders the run's series.
func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	return append(ms,
		probes.Gauge(exitCodeDesc, float64(r.ExitCode)),
		probes.Gauge(outputBytesDesc, float64(r.OutputBytes)))
}

// tail keeps the last max bytes written to it, and counts them all: memory
// stays flat whatever the script prints.
type tail struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int64
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// lines returns the kept output as lines, the first (cut) one dropped when
// output was lost.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	text := strings.ReplaceAll(string(bytes.TrimRight(t.buf, "\r\n")), "\r\n", "\n")
	if text == "" {
		return nil
	}
	ls := strings.Split(text, "\n")
	if t.total > int64(len(t.buf)) && len(ls) > 1 {
		ls = append([]string{fmt.Sprintf("(%d earlier bytes not kept)", t.total-int64(len(t.buf)))}, ls[1:]...)
	}
	return ls
}
