package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sfbex.conf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	p := writeFile(t, []byte("\xEF\xBB\xBF# Notepad's BOM and comments\r\n"+
		"SFBEX_SIP_DOMAINS = contoso.com,fabrikam.com\r\n"+
		"\r\n"+
		"  SFBEX_CA_FILE=\"C:\\ProgramData\\sfbex\\ca.pem\"\r\n"+
		"SFBEX_EMAIL_DOMAINS=\r\n"+
		"SFBEX_LDAP_PASSWORD_FILE='C:\\ProgramData\\sfbex\\ldap password.txt'\r\n"))
	got, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SFBEX_SIP_DOMAINS":        "contoso.com,fabrikam.com",
		"SFBEX_CA_FILE":            `C:\ProgramData\sfbex\ca.pem`,
		"SFBEX_EMAIL_DOMAINS":      "",
		"SFBEX_LDAP_PASSWORD_FILE": `C:\ProgramData\sfbex\ldap password.txt`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// PowerShell 5.1's Out-File writes UTF-16 LE with a BOM.
func TestReadFileUTF16(t *testing.T) {
	u := utf16.Encode([]rune("SFBEX_SIP_DOMAINS=contoso.com\r\n"))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	got, err := ReadFile(writeFile(t, b))
	if err != nil || got["SFBEX_SIP_DOMAINS"] != "contoso.com" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestReadFileErrorsNameTheLineNotTheValue(t *testing.T) {
	for text, want := range map[string]string{
		"SFBEX_SIP_DOMAINS=a\nSFBEX_LDAP_PASSWORD hunter2\n": "line 2: no '='",
		"PATH=hunter2\n":              `line 1: "PATH" is not an SFBEX_* variable name`,
		"sfbex_sip_domains=hunter2\n": "is not an SFBEX_* variable name",
		"SFBEX_LDAP_PASSWORD=hunter2\n# x\nSFBEX_LDAP_PASSWORD=hunter2": "line 3: SFBEX_LDAP_PASSWORD is already set on line 1",
	} {
		_, err := ReadFile(writeFile(t, []byte(text)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows a value: %v", text, err)
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.conf")); err == nil || !strings.Contains(err.Error(), "--config.file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadFile(writeFile(t, make([]byte, maxFileSize+1))); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}

// The environment wins over the file, name by name, and a NAME_FILE in
// the environment replaces NAME in the file instead of clashing with it.
func TestLayeredEnvironmentWins(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("from-env-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Map(map[string]string{"SFBEX_DNS_INTERVAL": "2m", "SFBEX_LDAP_PASSWORD_FILE": secret, "SFBEX_EMAIL_DOMAINS": ""})
	file := Map(map[string]string{"SFBEX_DNS_INTERVAL": "5m", "SFBEX_DNS_TIMEOUT": "3s", "SFBEX_LDAP_PASSWORD": "from-file", "SFBEX_EMAIL_DOMAINS": "contoso.com"})
	var v struct {
		Interval string   `env:"SFBEX_DNS_INTERVAL"`
		Timeout  string   `env:"SFBEX_DNS_TIMEOUT"`
		Password Secret   `env:"SFBEX_LDAP_PASSWORD"`
		Email    []string `env:"SFBEX_EMAIL_DOMAINS"`
	}
	if err := Load(Layered(env, file), &v); err != nil {
		t.Fatal(err)
	}
	if v.Interval != "2m" || v.Timeout != "3s" || v.Password.Reveal() != "from-env-file" || v.Email == nil || len(v.Email) != 0 {
		t.Fatalf("got %+v (password %q)", v, v.Password.Reveal())
	}
}
