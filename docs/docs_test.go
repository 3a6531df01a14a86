package docs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Handle(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var idAttr = regexp.MustCompile(`\bid="([^"]+)"`)

// ids fetches every served page and collects the anchors on each.
func ids(t *testing.T, srv *httptest.Server) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, p := range Pages {
		code, body := get(t, srv.URL+p.Path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", p.Path, code)
		}
		if !strings.Contains(body, "<title>"+p.Title) {
			t.Errorf("GET %s: no title %q", p.Path, p.Title)
		}
		out[p.Path] = map[string]bool{}
		for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
			out[p.Path][m[1]] = true
		}
	}
	return out
}

// runbookURL takes the whole value: it may hold a template with spaces,
// http://{{ $labels.instance }}/runbooks#agent-down.
var runbookURL = regexp.MustCompile(`(?m)runbook_url:[ \t]*(.+?)[ \t]*$`)

// Every runbook_url in the shipped rules names a section that exists on the
// served /runbooks page, whether the rules link to the repository's
// docs/runbooks.md#x or to the agent's /runbooks#x.
func TestEveryAlertRunbookAnchorResolvesOnTheServedPage(t *testing.T) {
	anchors := ids(t, serve(t))["/runbooks"]
	rules, _ := filepath.Glob("../alerts/*.rules.yml")
	if len(rules) == 0 {
		t.Fatal("no rule files in ../alerts")
	}
	n := 0
	for _, f := range rules {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range runbookURL.FindAllStringSubmatch(string(b), -1) {
			n++
			url, anchor, ok := strings.Cut(strings.Trim(m[1], `"'`), "#")
			if !ok || anchor == "" {
				t.Errorf("%s: runbook_url %s has no #anchor", f, m[1])
				continue
			}
			if !strings.HasSuffix(url, "runbooks.md") && !strings.HasSuffix(url, "/runbooks") {
				t.Errorf("%s: runbook_url %s points at neither docs/runbooks.md nor an agent's /runbooks", f, m[1])
			}
			if !anchors[anchor] {
				t.Errorf("%s: runbook_url %s: no id=%q on the served /runbooks page", f, m[1], anchor)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d runbook_url entries: has the rule format changed?", n)
	}
}

var href = regexp.MustCompile(`href="([^"]+)"`)

// Every link between the served pages (and within one) lands on a page the
// agent serves and on an anchor that page has.
func TestLinksBetweenServedPagesResolve(t *testing.T) {
	srv := serve(t)
	all := ids(t, srv)
	for _, p := range Pages {
		_, body := get(t, srv.URL+p.Path)
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			dest := m[1]
			if strings.HasPrefix(dest, "http") || dest == "/" {
				continue
			}
			path, anchor, _ := strings.Cut(dest, "#")
			if path == "" {
				path = p.Path
			}
			target, served := all[path]
			if strings.HasSuffix(path, ".md") && !served {
				continue // a document the agent does not serve (architecture.md, the README)
			}
			if !served {
				t.Errorf("%s links to %s, which the agent does not serve", p.Path, dest)
				continue
			}
			if anchor != "" && !target[anchor] {
				t.Errorf("%s links to %s: %s has no id=%q", p.Path, dest, path, anchor)
			}
		}
	}
}

// The rules may link to the agent that raised the alert, through a
// template with spaces in it.
func TestRunbookURLForms(t *testing.T) {
	for line, want := range map[string]string{
		`          runbook_url: "docs/runbooks.md#agent-down"`:                        "docs/runbooks.md#agent-down",
		`          runbook_url: "http://{{ $labels.instance }}/runbooks#dns-drift"`:   "http://{{ $labels.instance }}/runbooks#dns-drift",
		`          runbook_url: 'https://sfbex.contoso.com:9726/runbooks#ews-down'  `: "https://sfbex.contoso.com:9726/runbooks#ews-down",
		`  runbook_url: http://{{ $labels.instance }}/runbooks#probe-failing`:         "http://{{ $labels.instance }}/runbooks#probe-failing",
	} {
		m := runbookURL.FindStringSubmatch(line)
		if m == nil || strings.Trim(m[1], `"'`) != want {
			t.Errorf("%s: got %q, want %q", line, m, want)
		}
	}
}

func TestAnchorIsGitHubs(t *testing.T) {
	for h, want := range map[string]string{
		"Agent down":             "agent-down",
		"sfb/hosting_provider_*": "sfbhosting_provider_",
		"exchange/owa_im_enabled, exchange/owa_im_type_ocs": "exchangeowa_im_enabled-exchangeowa_im_type_ocs",
		"Skype for Business ExchangeAutodiscoverUrl":        "skype-for-business-exchangeautodiscoverurl",
		"`sfbex_probe_state`":                               "sfbex_probe_state",
	} {
		if got := Anchor(h); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestServedLink(t *testing.T) {
	for in, want := range map[string]string{
		"docs/runbooks.md#dns-record-missing": "/runbooks#dns-record-missing",
		"metrics.md#certificates":             "/docs/metrics#certificates",
		"configuration.md":                    "/docs/configuration",
		"architecture.md":                     "architecture.md",
		"#local":                              "#local",
	} {
		if got := ServedLink(in); got != want {
			t.Errorf("ServedLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	srv := serve(t)
	if code, _ := get(t, srv.URL+"/runbooks/x"); code != http.StatusNotFound {
		t.Errorf("GET /runbooks/x: %d, want 404", code)
	}
}
