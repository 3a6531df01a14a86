// Package deploy checks the deployment files under deploy/ with the tools
// that read them: systemd-analyze for the systemd unit.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

// maxExposure is the highest `systemd-analyze security` exposure the unit may
// have (0 is fully locked down, 10 unprotected; the shipped unit scores 1.2:
// what is left is the network access the agent exists for).
const maxExposure = 2.0

// The unit passes `systemd-analyze verify` and keeps its exposure low; the
// agent's configuration errors (exit status 2) are not restarted in a loop.
func TestSystemdUnit(t *testing.T) {
	infra.Require(t, "systemd-analyze")
	root := infra.ModuleRoot(t)
	unit, err := os.ReadFile(filepath.Join(root, "deploy", "systemd", "sfbex_exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/sfbex_exporter\n",
		"EnvironmentFile=/etc/sfbex_exporter/sfbex_exporter.env\n",
		"RestartPreventExitStatus=2\n",
		"DynamicUser=yes\n",
		"NoNewPrivileges=yes\n",
		"ProtectSystem=strict\n",
		"CapabilityBoundingSet=\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit has no line %q", strings.TrimSpace(want))
		}
	}

	// verify checks that ExecStart and EnvironmentFile exist: point them at a
	// built agent and the shipped example environment file.
	dir := t.TempDir()
	text = strings.Replace(text, "ExecStart=/usr/local/bin/sfbex_exporter", "ExecStart="+infra.BuildAgent(t), 1)
	text = strings.Replace(text, "EnvironmentFile=/etc/sfbex_exporter/sfbex_exporter.env",
		"EnvironmentFile="+filepath.Join(root, "deploy", "systemd", "sfbex_exporter.env"), 1)
	path := filepath.Join(dir, "sfbex_exporter.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for sfbex_exporter\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	exposure, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: exposure %.1f", exposure)
	if exposure > maxExposure {
		t.Errorf("exposure %.1f, want at most %.1f:\n%s", exposure, maxExposure, out)
	}
}

// The example environment file holds only SFBEX_* assignments and no secret.
func TestSystemdEnvironmentFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(infra.ModuleRoot(t), "deploy", "systemd", "sfbex_exporter.env"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		name, _, ok := strings.Cut(line, "=")
		if !ok || strings.Contains(name, " ") {
			continue // prose
		}
		if !strings.HasPrefix(name, "SFBEX_") {
			t.Errorf("line %d: %s is no SFBEX_ variable", i+1, name)
		}
		if strings.Contains(name, "PASSWORD") || strings.Contains(name, "TOKEN") {
			if !strings.HasSuffix(name, "_FILE") {
				t.Errorf("line %d: %s is a secret: it belongs in a credential (LoadCredential=), read through %s_FILE", i+1, name, name)
			}
		}
	}
}
