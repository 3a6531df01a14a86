package autodiscover

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/loopback"
	"github.com/sfbex/sfbex_exporter/probes"
)

// silentListener is a peer that accepts TCP connections and never answers: a TLS
// handshake with it hangs until the client gives up.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := loopback.Silent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// As an admin may configure it: a request may take the whole run.
const wholeRun = 3 * time.Second

func runWithin(t *testing.T, p *Prober, d time.Duration) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	r, err := p.Probe(ctx)
	if ctx.Err() != nil {
		t.Errorf("the run used its whole deadline")
	}
	if r == nil {
		t.Fatalf("the run recorded nothing: %v", err)
	}
	return r.(*Result), err
}

// One hanging method (https://<domain>/…, the root method) must not keep
// the others, and the authenticated requests after them, from finishing:
// the run is partial, the root method is unknown (not down), and the
// error names it.
func TestHangingMethodDoesNotStarveTheOthers(t *testing.T) {
	e := newEstate(t)
	cfg := e.config()
	cfg.RequestTimeout = wholeRun
	p := NewProber(cfg)
	if _, err := runWithin(t, p, wholeRun); err != nil {
		t.Fatalf("healthy run: %v", err)
	}

	e.web.ConnectTo[testDomain+":443"] = silentListener(t)
	r, err := runWithin(t, p, wholeRun)
	if err == nil || !strings.Contains(err.Error(), "autodiscover method root") || !strings.Contains(err.Error(), "timed out after") {
		t.Fatalf("error %v, want the root method named as timed out", err)
	}
	for _, m := range []Method{Host, HTTPRedirect, SRV} {
		if mr := r.Method(m); !mr.Up || mr.Stale || mr.Unfinished {
			t.Errorf("%s: %+v", m, mr)
		}
	}
	// The root method answered in the first run: it is shown from then, marked stale.
	if root := r.Method(Root); !root.Up || !root.Stale || root.Unfinished {
		t.Errorf("root: %+v, want the earlier answer, stale", root)
	}
	if len(r.Requests) != 2 || !r.Requests[0].OK || !r.Requests[1].OK || len(r.EWS) == 0 || r.EWSStale {
		t.Errorf("the authenticated requests did not finish: %+v", r.Requests)
	}

	// A prober that never saw the root method answer: it is unknown, not down.
	r, err = runWithin(t, NewProber(cfg), wholeRun)
	if err == nil {
		t.Fatal("no error")
	}
	if root := r.Method(Root); root.Up || !root.Unfinished || !strings.Contains(root.Attempt.Detail, "share of the run") {
		t.Errorf("root: %+v, want unfinished", root)
	}
	if r.Outlook != Host || r.Lync != Host {
		t.Errorf("ends on: outlook %q lync %q", r.Outlook, r.Lync)
	}
	for _, f := range r.Findings() {
		if f.Severity > probes.Info {
			t.Errorf("finding about what the run could not see: %v", f)
		}
	}
}

// One hanging view does not starve the other.
func TestHangingLyncViewDoesNotStarveTheOther(t *testing.T) {
	e := newLyncEstate(t)
	e.web.ConnectTo["lyncdiscover.contoso.test:443"] = silentListener(t)
	ctx, cancel := context.WithTimeout(context.Background(), wholeRun)
	defer cancel()
	res, err := ProbeLync(ctx, LyncConfig{Domain: testDomain, Views: []View{Internal, External}, Web: e.web, RequestTimeout: wholeRun, MaxBody: 1 << 20})
	if res == nil {
		t.Fatalf("the run recorded nothing: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "lyncdiscover external view") || !strings.Contains(err.Error(), "timed out after") {
		t.Fatalf("error %v, want the external view named as timed out", err)
	}
	r := res.(*LyncResult)
	for _, v := range r.Views {
		switch v.View {
		case Internal:
			if !v.Up || v.Unfinished {
				t.Errorf("internal: %+v", v)
			}
		case External:
			if v.Up || !v.Unfinished {
				t.Errorf("external: %+v, want unfinished", v)
			}
		}
	}
	if len(r.Findings()) != 0 {
		t.Errorf("findings about what the run could not see: %v", r.Findings())
	}
}
