package cms

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExportScriptSyntax parses scripts/Export-SfbexSnapshot.ps1 with the
// tree-sitter PowerShell grammar (scripts/ps-syntax, installed by
// scripts/test.sh into SFBEX_PS_SYNTAX_DIR), since PowerShell itself cannot
// run here. Broken copies of the script must fail, so the check is known
// to catch what it is for. Without node or the grammar it skips, unless CI
// is set.
func TestExportScriptSyntax(t *testing.T) {
	dir := os.Getenv("SFBEX_PS_SYNTAX_DIR")
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "sfbex", "ps-syntax")
		}
	}
	modules := filepath.Join(dir, "node_modules")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "web-tree-sitter", "package.json"))
	}
	if err != nil {
		msg := "the PowerShell syntax check needs node and the packages of scripts/ps-syntax in " + modules + " (scripts/test.sh installs them): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	script := "../../scripts/Export-SfbexSnapshot.ps1"
	good, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	// One node run for all files: starting the WebAssembly parser is the slow part.
	tmp := t.TempDir()
	// The Windows install script (scripts/windows) is checked along with it.
	install := "../../scripts/windows/Install-SfbexExporter.ps1"
	files := []string{script, install}
	for name, broken := range map[string]string{
		"brace":  strings.TrimSuffix(strings.TrimRight(string(good), "\r\n"), "}"),
		"string": strings.Replace(string(good), "$ScriptVersion = '1.2.0'", "$ScriptVersion = '1.2.0", 1),
		"paren":  strings.Replace(string(good), "if ($null -eq $d) { return $null }", "if ($null -eq $d { return $null }", 1),
	} {
		if broken == string(good) {
			t.Fatalf("%s: the script changed, the mutation no longer applies", name)
		}
		f := filepath.Join(tmp, "broken-"+name+".ps1")
		if err := os.WriteFile(f, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{"../../scripts/ps-syntax/check.cjs", modules}, files...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit status 1 (the broken copies), got %v:\n%s", err, out)
	}
	for _, f := range []string{script, install} {
		if strings.Contains(string(out), f+":") {
			t.Fatalf("syntax errors in %s:\n%s", f, out)
		}
	}
	for _, f := range files[2:] {
		if !strings.Contains(string(out), f+":") {
			t.Errorf("%s: no syntax error found:\n%s", filepath.Base(f), out)
		}
	}
}
