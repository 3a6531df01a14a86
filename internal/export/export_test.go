package export

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

func sh(script string) *Runner { return &Runner{Name: "/bin/sh", Args: []string{"-c", script}} }

func TestRunSuccess(t *testing.T) {
	res, err := sh(`echo "Snapshot written to C:\\x.json"; echo warning >&2`).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*Result)
	if r.ExitCode != 0 || !slices.Equal(r.Tail, []string{`Snapshot written to C:\x.json`, "warning"}) || r.OutputBytes != int64(len("Snapshot written to C:\\x.json\nwarning\n")) {
		t.Fatalf("%+v", r)
	}
	var ms []prometheus.Metric
	if ms = r.AppendMetrics(ms); len(ms) != 2 {
		t.Fatalf("%d metrics", len(ms))
	}
}

// A failing script is a result (its output's end) and an error with a fix.
func TestRunFailureKeepsTheOutputsEnd(t *testing.T) {
	res, err := sh(`echo "Get-CsManagementStoreReplicationStatus : access denied"; exit 3`).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exited with code 3") || probes.FixOf(err) == "" {
		t.Fatalf("err %v", err)
	}
	r := res.(*Result)
	if r.ExitCode != 3 || !strings.Contains(strings.Join(r.Details(), "\n"), "access denied") {
		t.Fatalf("%+v", r)
	}
}

// A script that hangs is stopped at the run's deadline.
func TestRunTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := sh(`echo started; exec sleep 60`).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "did not finish within its timeout") {
		t.Fatalf("err %v", err)
	}
	if r := res.(*Result); r.ExitCode != -1 || r.Tail[0] != "started" {
		t.Fatalf("%+v", r)
	}
}

func TestRunCannotStart(t *testing.T) {
	res, err := (&Runner{Name: "/nonexistent/powershell.exe"}).Run(context.Background())
	if res != nil || err == nil || !strings.Contains(probes.FixOf(err), "SFBEX_EXPORT_POWERSHELL") {
		t.Fatalf("%v, %v", res, err)
	}
}

// Whatever the script prints, the agent keeps only the end.
func TestRunOutputIsBounded(t *testing.T) {
	res, err := sh(`head -c 5000000 /dev/zero | tr '\0' 'x'; echo; echo the end`).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*Result)
	kept := 0
	for _, l := range r.Tail {
		kept += len(l)
	}
	if r.OutputBytes != int64(5000000+len("\nthe end\n")) || kept > maxTail+100 || r.Tail[len(r.Tail)-1] != "the end" || !strings.Contains(r.Tail[0], "earlier bytes not kept") {
		t.Fatalf("total %d, kept %d, first %.60q, last %q", r.OutputBytes, kept, r.Tail[0], r.Tail[len(r.Tail)-1])
	}
}

func TestChecks(t *testing.T) {
	script := `C:\Program Files\sfbex_exporter\Export-SfbexSnapshot.ps1`
	none, err := Checks(config.Map(nil), "windows")
	if err != nil || none != nil {
		t.Fatalf("off by default: %v, %v", none, err)
	}
	// Anywhere but Windows, a set SFBEX_EXPORT_SCRIPT is refused, not ignored.
	_, err = Checks(config.Map(map[string]string{"SFBEX_EXPORT_SCRIPT": script, "SFBEX_EXPORT_OUTPUT_FOLDER": `C:\x`}), "linux")
	if err == nil || !strings.Contains(err.Error(), "only on Windows") {
		t.Fatalf("linux: %v", err)
	}
	cs, err := Checks(config.Map(map[string]string{"SFBEX_EXPORT_SCRIPT": script, "SFBEX_EXPORT_OUTPUT_FOLDER": `C:\ProgramData\sfbex_exporter\snapshots`, "SFBEX_EXPORT_INTERVAL": "10m", "SFBEX_EXPORT_TIMEOUT": "2m"}), "windows")
	if err != nil || len(cs) != 1 {
		t.Fatalf("%v, %v", cs, err)
	}
	c := cs[0]
	if c.ID() != "export/"+script || c.Interval != 10*time.Minute || c.Timeout != 2*time.Minute {
		t.Errorf("check %s every %s, timeout %s", c.ID(), c.Interval, c.Timeout)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SFBEX_EXPORT_SCRIPT": script}, "needs either SFBEX_EXPORT_OUTPUT_FOLDER"},
		{map[string]string{"SFBEX_EXPORT_SCRIPT": script, "SFBEX_EXPORT_OUTPUT_FOLDER": "x", "SFBEX_EXPORT_URI": "https://a/api/snapshots", "SFBEX_EXPORT_TOKEN_FILE": "t"}, "not both"},
		{map[string]string{"SFBEX_EXPORT_SCRIPT": script, "SFBEX_EXPORT_URI": "http://a/api/snapshots", "SFBEX_EXPORT_TOKEN_FILE": "t"}, "SFBEX_EXPORT_URI"},
		{map[string]string{"SFBEX_EXPORT_SCRIPT": script, "SFBEX_EXPORT_OUTPUT_FOLDER": "x", "SFBEX_EXPORT_INTERVAL": "1m", "SFBEX_EXPORT_TIMEOUT": "5m"}, "SFBEX_EXPORT_TIMEOUT"},
	} {
		if _, err := Checks(config.Map(tc.env), "windows"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
	}
}

// The command line is the one the docs give for running the export by hand.
func TestArguments(t *testing.T) {
	got, err := arguments(Vars{Script: `C:\s.ps1`, URI: "https://agent:9726/api/snapshots", TokenFile: `C:\t`})
	want := []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", `C:\s.ps1`, "-Uri", "https://agent:9726/api/snapshots", "-TokenFile", `C:\t`}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// The optional parts' parameters are passed as the script takes them, and
// an incomplete set is refused at start, as the script would refuse it
// at every run.
func TestArgumentsOptionalParts(t *testing.T) {
	base := Vars{Script: `C:\s.ps1`, OutputFolder: `C:\out`}
	head := []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", `C:\s.ps1`, "-OutputFolder", `C:\out`}
	for _, tc := range []struct {
		name string
		set  func(*Vars)
		want []string
		err  string
	}{
		{"none", func(*Vars) {}, head, ""},
		{"exchange online by thumbprint", func(v *Vars) {
			v.EXOAppID, v.EXOOrganization, v.EXOCertThumbprint, v.EXOEnvironment = "11111111-2222-3333-4444-555555555555", "contoso.onmicrosoft.us", "0123456789ABCDEF0123456789ABCDEF01234567", "o365usgovgcchigh"
		}, append(slices.Clone(head), "-ExchangeOnlineAppId", "11111111-2222-3333-4444-555555555555", "-ExchangeOnlineOrganization", "contoso.onmicrosoft.us",
			"-ExchangeOnlineCertificateThumbprint", "0123456789ABCDEF0123456789ABCDEF01234567", "-ExchangeOnlineEnvironment", "O365USGovGCCHigh"), ""},
		{"exchange online by file", func(v *Vars) {
			v.EXOAppID, v.EXOOrganization, v.EXOCertFile, v.EXOCertPasswordFile = "11111111-2222-3333-4444-555555555555", "contoso.onmicrosoft.com", `C:\exo.pfx`, `C:\exo.pw`
		}, append(slices.Clone(head), "-ExchangeOnlineAppId", "11111111-2222-3333-4444-555555555555", "-ExchangeOnlineOrganization", "contoso.onmicrosoft.com",
			"-ExchangeOnlineCertificateFilePath", `C:\exo.pfx`, "-ExchangeOnlineCertificatePasswordFile", `C:\exo.pw`), ""},
		{"teams", func(v *Vars) {
			v.TeamsTenantID, v.TeamsAppID, v.TeamsCertThumbprint = "contoso.onmicrosoft.com", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "3A5E0E0B1C4F6A0D9E2B7C1A0F5E4D3C2B1A0F9E"
		}, append(slices.Clone(head), "-TeamsTenantId", "contoso.onmicrosoft.com", "-TeamsApplicationId", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "-TeamsCertificateThumbprint", "3A5E0E0B1C4F6A0D9E2B7C1A0F5E4D3C2B1A0F9E"), ""},
		{"exchange online without app", func(v *Vars) { v.EXOOrganization, v.EXOCertThumbprint = "contoso.onmicrosoft.com", "AB" }, nil, "SFBEX_EXPORT_EXO_APP_ID"},
		{"exchange online with a domain, not the tenant", func(v *Vars) {
			v.EXOAppID, v.EXOOrganization, v.EXOCertThumbprint = "11111111-2222-3333-4444-555555555555", "contoso.com", "AB"
		}, nil, "SFBEX_EXPORT_EXO_ORGANIZATION"},
		{"exchange online with both certificates", func(v *Vars) {
			v.EXOAppID, v.EXOOrganization, v.EXOCertThumbprint, v.EXOCertFile = "11111111-2222-3333-4444-555555555555", "contoso.onmicrosoft.com", "AB", `C:\exo.pfx`
		}, nil, "not both"},
		{"exchange online in Germany", func(v *Vars) {
			v.EXOAppID, v.EXOOrganization, v.EXOCertThumbprint, v.EXOEnvironment = "11111111-2222-3333-4444-555555555555", "contoso.onmicrosoft.com", "AB", "O365GermanyCloud"
		}, nil, "is not one of O365Default"},
		{"teams half set", func(v *Vars) { v.TeamsTenantID = "contoso.onmicrosoft.com" }, nil, "together"},
	} {
		v := base
		tc.set(&v)
		got, err := arguments(v)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %q, %v; want an error naming %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
