package config

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/wintext"
)

// maxFileSize bounds a configuration file: a few hundred variables fit in
// a few KiB, so anything near this is not a configuration file.
const maxFileSize = 1 << 20

// ReadFile reads a configuration file: one NAME=value per line, the same
// SFBEX_* names as the environment. Blank lines and lines starting with #
// are skipped; spaces around the name and the value are trimmed, and one
// pair of matching quotes around the value is removed (nothing else is
// unescaped, so a Windows path needs no doubled backslashes). The file may
// be UTF-8 (with or without a byte order mark) or UTF-16 with one, as
// Notepad and PowerShell write it. Errors name the line, never a value.
func ReadFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w; point --config.file (or SFBEX_CONFIG_FILE) at a readable file", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("configuration file %s is larger than %d bytes: is it the right file?", path, maxFileSize)
	}
	if b, err = wintext.ToUTF8(b); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w; save it as UTF-8", path, err)
	}
	return parseFile(path, string(b))
}

func parseFile(path, text string) (map[string]string, error) {
	out := map[string]string{}
	line := map[string]int{}
	for i, l := range strings.Split(text, "\n") {
		n := i + 1
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%s line %d: no '=': write one NAME=value per line, e.g. SFBEX_SIP_DOMAINS=contoso.com", path, n)
		}
		if !strings.HasPrefix(name, Prefix) || strings.TrimLeft(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			return nil, fmt.Errorf("%s line %d: %q is not an %s* variable name (upper case letters, digits and _), e.g. SFBEX_SIP_DOMAINS=contoso.com", path, n, name, Prefix)
		}
		if first, dup := line[name]; dup {
			return nil, fmt.Errorf("%s line %d: %s is already set on line %d: keep one", path, n, name, first)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out[name] = value
		line[name] = n
	}
	return out, nil
}

// Layered looks a variable up in each source in turn; the first source
// that sets it, or its NAME_FILE twin, answers for both, so that
// SFBEX_LDAP_PASSWORD_FILE in the environment replaces SFBEX_LDAP_PASSWORD
// in the file instead of clashing with it.
func Layered(srcs ...Source) Source {
	return func(name string) (string, bool) {
		base := strings.TrimSuffix(name, "_FILE")
		for _, src := range srcs {
			_, hasBase := src(base)
			_, hasFile := src(base + "_FILE")
			if hasBase || hasFile {
				return src(name)
			}
		}
		return "", false
	}
}
