package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"maps"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/lab"
)

// labConfigFile writes the lab's configuration as a configuration file, as
// an admin would write the service's.
func labConfigFile(t *testing.T) string {
	t.Helper()
	l, err := lab.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	env := l.Env(15 * time.Second)
	var b strings.Builder
	b.WriteString("# written by the test, as an admin writes C:\\ProgramData\\sfbex_exporter\\sfbex_exporter.conf\r\n")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.ContainsAny(env[k], "\r\n") {
			t.Fatalf("%s has a line break: a configuration file cannot hold it", k)
		}
		fmt.Fprintf(&b, "%s=%s\r\n", k, env[k])
	}
	p := filepath.Join(t.TempDir(), "sfbex_exporter.conf")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The agent runs on a configuration file alone, named by the flag or by
// SFBEX_CONFIG_FILE, and the environment wins over the file.
func TestConfigFileConfiguresTheAgent(t *testing.T) {
	p := labConfigFile(t)
	clearEnv(t)
	if code := run([]string{"check", "--config.file=" + p, "--log.level=error"}); code != 0 {
		t.Fatalf("check --config.file exited %d on the healthy lab's configuration", code)
	}
	t.Setenv("SFBEX_CONFIG_FILE", p)
	if code := run([]string{"check", "--log.level=error"}); code != 0 {
		t.Fatalf("check with SFBEX_CONFIG_FILE exited %d", code)
	}
	t.Setenv("SFBEX_DNS_INTERVAL", "often") // the environment wins: a bad value there stops the agent
	if code := run([]string{"check", "--log.level=error"}); code != 2 {
		t.Fatalf("a bad SFBEX_DNS_INTERVAL in the environment: exit %d, want 2 (the environment wins)", code)
	}
}

func TestBadConfigFileExitsTwo(t *testing.T) {
	clearEnv(t)
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("SFBEX_SIP_DOMAINS contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "--config.file=" + bad},
		{"check", "--config.file=" + filepath.Join(t.TempDir(), "missing.conf")},
	} {
		if code := run(args); code != 2 {
			t.Errorf("run(%v) exited %d, want 2", args, code)
		}
	}
}

// The example configuration shipped in the Windows zip reads, and every
// variable it names (commented out or not) is one the agent reads.
func TestWindowsExampleConfiguration(t *testing.T) {
	p := moduleRoot + "/scripts/windows/sfbex_exporter.conf.example"
	if _, err := config.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	known := variables()
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "#"), "=")
		if !ok || !strings.HasPrefix(name, "SFBEX_") {
			continue
		}
		n++
		if !slices.Contains(known, name) && !slices.Contains(known, strings.TrimSuffix(name, "_FILE")) {
			t.Errorf("the example names %s, which the agent does not read", name)
		}
	}
	if n < 5 {
		t.Fatalf("found %d variables in the example", n)
	}
}
