package cms

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The export script cannot run here. These tests hold it to what the
// agent and the examples rely on, by reading its text.

func readScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../scripts/Export-SfbexSnapshot.ps1")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scriptStep is one Invoke-Step line of the script.
type scriptStep struct {
	section, cmdlet, run string
	props                []string // in the order the script writes them
}

var (
	// A step is named by its cmdlet, or by the command line it runs (Get-Command ExSetup.exe).
	stepRe      = regexp.MustCompile(`Invoke-Step \(\$s \+ '(\w+)'\) '([\w-]+(?: [\w.-]+)?)' \{(.*)\} (-(?:Text|Bool|Date|List) .*)$`)
	stepParamRe = regexp.MustCompile(`-(Text|Bool|Date|List) ((?:'\w+'(?:, )?)+)`)
	quotedRe    = regexp.MustCompile(`'[^']*'`)
	cmdletRe    = regexp.MustCompile(`\b(Get-[A-Za-z]+)\b([^;{}]*)`)
)

func scriptSteps(t *testing.T) map[string]scriptStep {
	t.Helper()
	steps := map[string]scriptStep{}
	shell := ""
	for _, line := range strings.Split(readScript(t), "\n") {
		if m := regexp.MustCompile(`\$s = '(\w+)\.'`).FindStringSubmatch(line); m != nil {
			shell = m[1]
		}
		m := stepRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		st := scriptStep{section: shell + "." + m[1], cmdlet: m[2], run: m[3]}
		// Invoke-Step writes -Text, then -Bool, then -Date, then -List properties.
		byKind := map[string][]string{}
		for _, p := range stepParamRe.FindAllStringSubmatch(m[4], -1) {
			for _, q := range quotedRe.FindAllString(p[2], -1) {
				byKind[p[1]] = append(byKind[p[1]], strings.Trim(q, "'"))
			}
		}
		st.props = slices.Concat(byKind["Text"], byKind["Bool"], byKind["Date"], byKind["List"])
		steps[st.section] = st
	}
	if len(steps) == 0 {
		t.Fatal("no Invoke-Step line found: the script's layout changed, update stepRe")
	}
	return steps
}

// TestScriptSectionsMatchTheAgent: every section the script exports is one
// the agent knows, with the same cmdlet, so that an error naming it marks
// the right section as not exported.
func TestScriptSectionsMatchTheAgent(t *testing.T) {
	steps := scriptSteps(t)
	if len(steps) != len(sectionCmdlets) {
		t.Errorf("the script has %d sections, the agent knows %d", len(steps), len(sectionCmdlets))
	}
	for sec, st := range steps {
		if sectionCmdlets[sec] != st.cmdlet {
			t.Errorf("%s: script runs %s, agent expects %q", sec, st.cmdlet, sectionCmdlets[sec])
		}
	}
}

// TestScriptCmdletsStopOnError: each cmdlet call takes -ErrorAction Stop;
// the Exchange proxy functions ignore $ErrorActionPreference, and a
// swallowed error would export an empty section instead of a failed one.
func TestScriptCmdletsStopOnError(t *testing.T) {
	for sec, st := range scriptSteps(t) {
		calls := cmdletRe.FindAllStringSubmatch(quotedRe.ReplaceAllString(st.run, "''"), -1)
		if len(calls) == 0 {
			t.Errorf("%s: no cmdlet call in %q", sec, st.run)
		}
		for _, c := range calls {
			if !strings.Contains(c[2], "-ErrorAction Stop") {
				t.Errorf("%s: %s%s without -ErrorAction Stop", sec, c[1], c[2])
			}
		}
	}
}

// TestScriptWritesWhatTheAgentReads: dates in the invariant round-trip
// format (no custom format, which takes the server's time separator and
// calendar), TLS 1.2 enabled before the POST, an atomic replace (File.Replace
// with a real null for the backup) before any Move-Item, and UTF-8 without
// a BOM as in the examples.
func TestScriptWritesWhatTheAgentReads(t *testing.T) {
	s := readScript(t)
	for _, want := range []string{
		"$Invariant = [System.Globalization.CultureInfo]::InvariantCulture",
		".ToUniversalTime().ToString('o', $Invariant)",
		"[System.IO.File]::Replace($tmp, $target, [NullString]::Value)",
		"[System.IO.File]::WriteAllText($tmp, $json, (New-Object System.Text.UTF8Encoding $false))",
		"$json = $snapshot | ConvertTo-Json -Depth 6",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the script lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`ToString\('[^o']`).FindString(s); m != "" {
		t.Errorf("a custom date format, formatted in the server's culture: %s", m)
	}
	tls, post := strings.Index(s, "[System.Net.SecurityProtocolType]::Tls12"), strings.Index(s, "Invoke-RestMethod")
	if tls < 0 || post < 0 || tls > post {
		t.Error("TLS 1.2 is not enabled before Invoke-RestMethod")
	}
	replace, move := strings.Index(s, "[System.IO.File]::Replace("), strings.Index(s, "Move-Item -LiteralPath")
	if replace < 0 || move < replace {
		t.Error("Move-Item before the atomic replace: it deletes the old file first under Windows PowerShell 5.1")
	}
	if !regexp.MustCompile(`(?s)try \{ \$fqdn = \(\[System\.Net\.Dns\]::GetHostEntry.*?\}\s*catch \{`).MatchString(s) {
		t.Error("the name lookup is not guarded: a failed lookup ends the run")
	}
	if !regexp.MustCompile(`if \(\$token -eq ''\) \{ throw "The token file \$TokenFile is empty`).MatchString(s) {
		t.Error("an empty token file is not explained")
	}
}

// objectKeys lists the keys of a JSON object in their order.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestExamplesHaveTheScriptsProperties: each row of every section in the
// examples has exactly the properties the script exports, in its order.
func TestExamplesHaveTheScriptsProperties(t *testing.T) {
	steps := scriptSteps(t)
	rows := 0
	for _, name := range allExamples {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(readTestdata(t, name), &top); err != nil {
			t.Fatal(err)
		}
		want := []string{"SnapshotVersion", "ScriptVersion", "Timestamp", "ComputerName", "ComputerFqdn", "Shell", "PSVersion", "PSEdition", "Culture"}
		shell := ShellSfB
		if _, ok := top[ShellExchange]; ok {
			shell = ShellExchange
		}
		want = append(want, shell)
		if _, ok := top[ExchangeOnlineSection]; ok {
			want = append(want, ExchangeOnlineSection)
		}
		if got := objectKeys(t, readTestdata(t, name)); !slices.Equal(got, append(want, "Errors")) {
			t.Errorf("%s: top-level %v", name, got)
		}
		for _, e := range mustRows(t, top["Errors"]) {
			if got := objectKeys(t, e); !slices.Equal(got, []string{"Section", "Cmdlet", "Message"}) {
				t.Errorf("%s: Errors row %v", name, got)
			}
		}
		var sections map[string]json.RawMessage
		if err := json.Unmarshal(top[shell], &sections); err != nil {
			t.Fatal(err)
		}
		prefixed := map[string]json.RawMessage{}
		for sec, raw := range sections {
			prefixed[shell+"."+sec] = raw
		}
		if raw, ok := top[ExchangeOnlineSection]; ok {
			// The Exchange Online part: what it connected to, then its sections.
			if got := objectKeys(t, raw); !slices.Equal(got, []string{"Organization", "Environment", "OrganizationConfig", "EwsOperationAccessPolicy"}) {
				t.Errorf("%s: ExchangeOnline %v", name, got)
			}
			var exo map[string]json.RawMessage
			if err := json.Unmarshal(raw, &exo); err != nil {
				t.Fatal(err)
			}
			for _, sec := range []string{"OrganizationConfig", "EwsOperationAccessPolicy"} {
				prefixed[ExchangeOnlineSection+"."+sec] = exo[sec]
			}
		}
		for sec, raw := range prefixed {
			if string(raw) == "null" {
				continue // not exported
			}
			st, ok := steps[sec]
			if !ok {
				t.Errorf("%s: section %s is not in the script", name, sec)
				continue
			}
			for _, row := range mustRows(t, raw) {
				rows++
				if got := objectKeys(t, row); !slices.Equal(got, st.props) {
					t.Errorf("%s: %s row %v, the script writes %v", name, sec, got, st.props)
				}
			}
		}
	}
	if rows < 20 {
		t.Errorf("only %d rows checked", rows)
	}
}

func mustRows(t *testing.T, raw json.RawMessage) []json.RawMessage {
	t.Helper()
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("not a list (the script keeps arrays): %s", raw)
	}
	return rows
}

// TestScriptExchangeOnlinePart holds the optional Exchange Online part to
// what docs/configuration.md promises: app-only certificate authentication
// in the four documented clouds, no banner, the Exchange Online cmdlets
// kept apart from the Exchange Management Shell's by a prefix, a failed
// connection recorded against both sections, a disconnect whatever
// happens, the Entra app documented, and no password on the command line.
func TestScriptExchangeOnlinePart(t *testing.T) {
	s := readScript(t)
	if m := regexp.MustCompile(`\[ValidateSet\(([^)]*)\)\]\[string\]\$ExchangeOnlineEnvironment = 'O365Default'`).FindStringSubmatch(s); m == nil ||
		m[1] != "'O365Default', 'O365USGovGCCHigh', 'O365USGovDoD', 'O365China'" {
		t.Errorf("ExchangeOnlineEnvironment: %v", m)
	}
	connect := regexp.MustCompile(`\$connect = @\{([^}]*)\}`).FindStringSubmatch(s)
	if connect == nil {
		t.Fatal("no Connect-ExchangeOnline parameters ($connect = @{...})")
	}
	for _, want := range []string{"AppId = $ExchangeOnlineAppId", "Organization = $ExchangeOnlineOrganization", "ExchangeEnvironmentName = $ExchangeOnlineEnvironment",
		"Prefix = 'SfbexExo'", "ShowBanner = $false", "ErrorAction = 'Stop'"} {
		if !strings.Contains(connect[1], want) {
			t.Errorf("Connect-ExchangeOnline without %s", want)
		}
	}
	for _, want := range []string{"$connect.CertificateThumbprint = $ExchangeOnlineCertificateThumbprint", "$connect.CertificateFilePath = $ExchangeOnlineCertificateFilePath",
		"Connect-ExchangeOnline @connect", "Exchange.ManageAsApp", "Global Reader",
		"foreach ($n in 'OrganizationConfig', 'EwsOperationAccessPolicy') { Add-ExportError ($s + $n) 'Connect-ExchangeOnline' $_.Exception.Message }"} {
		if !strings.Contains(s, want) {
			t.Errorf("the script lacks %s", want)
		}
	}
	// Every Exchange Online cmdlet carries the prefix, and the disconnect
	// follows them in a finally block.
	steps := scriptSteps(t)
	for _, sec := range []string{"ExchangeOnline.OrganizationConfig", "ExchangeOnline.EwsOperationAccessPolicy"} {
		if !strings.Contains(steps[sec].run, "Get-SfbexExoOrganizationConfig") {
			t.Errorf("%s runs %q, not the prefixed Exchange Online cmdlet", sec, steps[sec].run)
		}
	}
	if !strings.Contains(steps["ExchangeOnline.EwsOperationAccessPolicy"].run, "-RetrieveEwsOperationAccessPolicy") {
		t.Error("the allow list is not read with -RetrieveEwsOperationAccessPolicy")
	}
	last, fin := strings.LastIndex(s, "Get-SfbexExoOrganizationConfig"), regexp.MustCompile(`finally \{\s*Disconnect-ExchangeOnline -Confirm:\$false`).FindStringIndex(s)
	if fin == nil || fin[0] < last {
		t.Error("Disconnect-ExchangeOnline does not follow the Exchange Online cmdlets in a finally block")
	}
	// Secrets: no password parameter (only a file holding it), and the
	// password is never written anywhere.
	if regexp.MustCompile(`\[(string|securestring)\]\$\w*Password\b`).MatchString(s) {
		t.Error("a password parameter: the password would be on the command line")
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "$exoPassword") && regexp.MustCompile(`Write-|Add-ExportError|\$snapshot`).MatchString(line) {
			t.Errorf("the certificate password may be written: %s", strings.TrimSpace(line))
		}
	}
}
