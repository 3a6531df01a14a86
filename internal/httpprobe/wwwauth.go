package httpprobe

import (
	"net/http"
	"sort"
	"strings"
)

// Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1): a scheme with either a token68 or parameters.
type Challenge struct {
	// Scheme as sent ("Bearer", "NTLM"); compare with Is.
	Scheme string `json:"scheme"`
	// Params by lower-cased name; quoted values are unquoted.
	Params map[string]string `json:"params,omitempty"`
	// Token68 is the scheme's opaque data, e.g. an NTLM challenge message.
	// It means nothing to people, so it stays out of /api/checks.
	Token68 string `json:"-"`
}

// Is reports whether the challenge uses scheme (any case).
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// Param returns the value of the parameter name (any case), or "".
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// String formats the challenge as a header would carry it.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	sep := " "
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
		sep = ", "
	}
	names := make([]string, 0, len(c.Params))
	for n := range c.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := strings.ReplaceAll(strings.ReplaceAll(c.Params[n], `\`, `\\`), `"`, `\"`)
		b.WriteString(sep + n + `="` + v + `"`)
		sep = ", "
	}
	return b.String()
}

// Limits keep a hostile header from costing more than a few kilobytes.
const (
	maxChallenges = 32
	maxParams     = 32
)

// Challenges parses every WWW-Authenticate header of h.
func Challenges(h http.Header) []Challenge { return ParseChallenges(h.Values("WWW-Authenticate")) }

// ParseChallenges parses WWW-Authenticate header values: several headers,
// several comma-joined challenges in one header, or both (Exchange Online
// joins Bearer and Basic in one). It is tolerant as clients are: quoted
// values may hold commas, unquoted values may hold URLs (MsRtcOAuth
// href=https://…), junk is skipped up to the next comma, and parameter
// names are case-insensitive.
func ParseChallenges(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := parser{s: v}
		out = p.parse(out)
		if len(out) >= maxChallenges {
			return out[:maxChallenges]
		}
	}
	return out
}

// Find returns the first challenge with scheme (any case).
func Find(cs []Challenge, scheme string) (Challenge, bool) {
	for _, c := range cs {
		if c.Is(scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}

type parser struct {
	s string
	i int
}

// parse reads comma-separated items. Each item is a new challenge
// ("scheme", "scheme token68", "scheme name=value") or another parameter
// of the current one ("name=value").
func (p *parser) parse(out []Challenge) []Challenge {
	cur := -1 // index in out of the challenge that takes parameters
	for len(out) <= maxChallenges {
		p.skip(func(c byte) bool { return c == ',' || isWS(c) })
		if p.i >= len(p.s) {
			return out
		}
		tok := p.token()
		if tok == "" {
			p.toComma()
			continue
		}
		if p.peekEquals() { // name=value: a parameter of the current challenge
			name, value := strings.ToLower(tok), p.value()
			if cur >= 0 {
				addParam(&out[cur], name, value)
			}
			p.toComma()
			continue
		}
		out = append(out, Challenge{Scheme: tok})
		cur = len(out) - 1
		p.skip(isWS)
		if p.i >= len(p.s) || p.s[p.i] == ',' {
			continue
		}
		if p.paramFollows() {
			name := strings.ToLower(p.token())
			p.peekEquals()
			addParam(&out[cur], name, p.value())
			p.toComma()
			continue
		}
		// token68: up to the next comma.
		end := strings.IndexByte(p.s[p.i:], ',')
		if end < 0 {
			end = len(p.s) - p.i
		}
		out[cur].Token68 = strings.TrimRight(p.s[p.i:p.i+end], " \t")
		p.i += end
	}
	return out
}

func addParam(c *Challenge, name, value string) {
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, dup := c.Params[name]; dup || len(c.Params) >= maxParams {
		return // the first one counts, as in most clients
	}
	c.Params[name] = value
}

// paramFollows reports whether "name = value" starts at the cursor, as
// opposed to a token68 (which may end in '=' padding).
func (p *parser) paramFollows() bool {
	save := p.i
	defer func() { p.i = save }()
	if p.token() == "" {
		return false
	}
	p.skip(isWS)
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return false
	}
	p.i++
	p.skip(isWS)
	return p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '='
}

// peekEquals skips whitespace and an '=' when one follows; otherwise it
// leaves the cursor where it was.
func (p *parser) peekEquals() bool {
	j := p.i
	for j < len(p.s) && isWS(p.s[j]) {
		j++
	}
	if j < len(p.s) && p.s[j] == '=' {
		p.i = j + 1
		return true
	}
	return false
}

// value reads a quoted string (with backslash escapes) or an unquoted
// value up to a comma or whitespace.
func (p *parser) value() string {
	p.skip(isWS)
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '\\' && p.i < len(p.s):
				b.WriteByte(p.s[p.i])
				p.i++
			case c == '"':
				return b.String()
			default:
				b.WriteByte(c)
			}
		}
		return b.String() // unterminated: take the rest
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && !isWS(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) skip(f func(byte) bool) {
	for p.i < len(p.s) && f(p.s[p.i]) {
		p.i++
	}
}

func (p *parser) toComma() {
	for p.i < len(p.s) && p.s[p.i] != ',' {
		p.i++
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// isTchar: RFC 9110 token characters.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
