// Package docs serves the agent's runbooks and its metrics and
// configuration references from the binary, as HTML, so that an alert's
// runbook_url (http://<agent>/runbooks#<anchor>) and the status page's links
// open on the agent that raised them, with no copy of the repository at hand.
package docs

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

//go:embed runbooks.md metrics.md configuration.md cms-snapshots.md
var files embed.FS

// Page is one document the agent serves.
type Page struct {
	Path  string // where it is served, e.g. /runbooks
	File  string // its Markdown source in this folder
	Title string
}

// Pages are the documents served, in the order the navigation lists them.
var Pages = []Page{
	{"/runbooks", "runbooks.md", "Runbooks"},
	{"/docs/metrics", "metrics.md", "Metrics"},
	{"/docs/configuration", "configuration.md", "Configuration"},
	{"/docs/cms-snapshots", "cms-snapshots.md", "CMS snapshots"},
}

// Runbook is the served address of a runbook section: the status page's
// link for a check or a finding.
func Runbook(anchor string) string { return "/runbooks#" + anchor }

// Handle registers every page on mux.
func Handle(mux *http.ServeMux) {
	for _, p := range Pages {
		mux.Handle(p.Path, Handler(p))
	}
}

// Handler serves one page. The HTML is rendered once, on first request.
func Handler(p Page) http.Handler {
	render := sync.OnceValues(func() ([]byte, error) { return Render(p) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != p.Path {
			http.NotFound(w, r)
			return
		}
		b, err := render()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	})
}

// Render turns p's Markdown into a whole HTML page. Headings get the
// anchors GitHub gives them, so one anchor works on GitHub and on the
// agent; links between the served documents point at their served paths.
func Render(p Page) ([]byte, error) {
	src, err := files.ReadFile(p.File)
	if err != nil {
		return nil, fmt.Errorf("docs: %s is not embedded: %w", p.File, err)
	}
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(linkRewriter{}, 100)),
		),
	)
	var body bytes.Buffer
	ctx := parser.NewContext(parser.WithIDs(newGitHubIDs()))
	if err := md.Convert(src, &body, parser.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("docs: rendering %s: %w", p.File, err)
	}
	var out bytes.Buffer
	err = pageTmpl.Execute(&out, struct {
		Page
		Pages []Page
		Body  template.HTML
	}{p, Pages, template.HTML(body.String())}) // goldmark drops raw HTML by default: the body is safe
	return out.Bytes(), err
}

// linkRewriter points links to the served documents (metrics.md#x,
// docs/runbooks.md#y) at their served paths (/docs/metrics#x, /runbooks#y).
type linkRewriter struct{}

func (linkRewriter) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			l.Destination = []byte(ServedLink(string(l.Destination)))
		}
		return ast.WalkContinue, nil
	})
}

// ServedLink maps a link to one of the served documents (as written in the
// Markdown or in a finding's text) to its served path; other links are
// returned as they are.
func ServedLink(dest string) string {
	file, frag, hasFrag := strings.Cut(dest, "#")
	file = strings.TrimPrefix(strings.TrimPrefix(file, "./"), "docs/")
	for _, p := range Pages {
		if file == p.File {
			if hasFrag {
				return p.Path + "#" + frag
			}
			return p.Path
		}
	}
	return dest
}

// gitHubIDs gives headings GitHub's anchors: lower case, letters, digits,
// '-' and '_' kept, spaces to '-', everything else dropped, and -1, -2 …
// on repeats. goldmark's own scheme differs on punctuation, which would
// break anchors written for GitHub.
type gitHubIDs struct{ used map[string]bool }

func newGitHubIDs() *gitHubIDs { return &gitHubIDs{used: map[string]bool{}} }

// Anchor is the anchor GitHub and the served pages give heading h.
func Anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func (g *gitHubIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	base := Anchor(string(value))
	id := base
	for i := 1; g.used[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	g.used[id] = true
	return []byte(id)
}

func (g *gitHubIDs) Put(value []byte) { g.used[string(value)] = true }

var pageTmpl = template.Must(template.New("doc").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · sfbex_exporter</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:60em;padding:0 1em;color:#222;background:#fff;line-height:1.45}
nav{border-bottom:1px solid #ddd;padding-bottom:.5em;margin-bottom:1em}
nav a{margin-right:1em} nav b{margin-right:1em}
table{border-collapse:collapse;margin:1em 0} th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f4f4f4} code{background:#f4f4f4;padding:0 .2em} pre{background:#f4f4f4;padding:.6em;overflow-x:auto}
h2,h3{scroll-margin-top:1em} :target{background:#fff8c4}
</style></head><body>
<nav><a href="/">Status</a>{{range .Pages}}{{if eq .Path $.Path}}<b>{{.Title}}</b>{{else}}<a href="{{.Path}}">{{.Title}}</a>{{end}}{{end}}</nav>
{{.Body}}
</body></html>
`))
