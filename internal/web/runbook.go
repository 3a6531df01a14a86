package web

import (
	"html/template"
	"regexp"
	"strings"

	"github.com/sfbex/sfbex_exporter/docs"
)

// runbookSection is the runbook section (docs/runbooks.md) for each probe's
// checks: the status page links a check that is not ok to it. A probe
// without its own section gets the general one.
var runbookSection = map[string]string{
	"dns":          "dns-lookups-failing",
	"autodiscover": "exchange-autodiscover-down",
	"lyncdiscover": "lync-autodiscover-down",
	"ews":          "ews-down",
	"oauth":        "oauth-certificate-expiring",
	"tls":          "tls-certificate-expiring",
	"certfiles":    "certificate-file-expiring-or-unreadable",
	"directory":    "directory",
	"cms":          "cms-and-integration-settings",
	"export":       "settings-export-failing",
}

// RunbookFor is the served runbook address for a probe's checks.
func RunbookFor(probe string) string {
	if a, ok := runbookSection[probe]; ok {
		return docs.Runbook(a)
	}
	return docs.Runbook("probe-failing")
}

// docRef finds references to the served documents in findings' and
// errors' text ("see docs/runbooks.md#directory").
var docRef = regexp.MustCompile(`(?:docs/)?(?:runbooks|metrics|configuration|cms-snapshots)\.md(?:#[a-z0-9_-]+)?`)

// linkDocs escapes s and turns each reference to a served document into a
// link to the agent's own copy.
func linkDocs(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range docRef.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		ref := s[m[0]:m[1]]
		b.WriteString(`<a href="` + template.HTMLEscapeString(docs.ServedLink(ref)) + `">` + template.HTMLEscapeString(ref) + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}
