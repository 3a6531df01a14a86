package directory

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
)

func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func labConfig(l *lab.Lab, addr string) Config {
	return Config{URL: "ldap://" + addr, BindDN: lab.DirectoryBindDN, Password: config.Secret(l.DirectoryPassword()),
		BaseDN: lab.DirectoryBaseDN, SIPDomains: []string{lab.Domain}, MinCoverage: 0.95}
}

func scan(t *testing.T, cfg Config) (*Result, error) {
	t.Helper()
	p, err := NewProber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if err != nil {
		if r != nil {
			t.Errorf("a failed scan returned a result: %+v", r)
		}
		return nil, err
	}
	return r.(*Result), nil
}

func domain(r *Result, d string) DomainStats {
	for _, s := range r.Domains {
		if s.Domain == d {
			return s
		}
	}
	return DomainStats{}
}

// The figures follow from lab.LabUsers' rules; see its comment.
func TestLabFiguresExact(t *testing.T) {
	l := startLab(t)
	for _, pageSize := range []int{1000, 7} {
		cfg := labConfig(l, l.DirectoryAddr())
		cfg.PageSize = pageSize
		r, err := scan(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := DomainStats{Domain: "contoso.test", Users: 488, WithSIPProxy: 477, MissingMail: 10, Mismatch: 6, Invalid: 1, Duplicates: 1}
		if got := domain(r, "contoso.test"); got != want {
			t.Errorf("page size %d:\n got %+v\nwant %+v", pageSize, got, want)
		}
		if o := domain(r, Other); o.Users != 3 || o.WithSIPProxy != 3 {
			t.Errorf("other: %+v", o)
		}
		wantPages := (491 + pageSize - 1) / pageSize
		if r.Entries != 491 || r.Pages != wantPages {
			t.Errorf("page size %d: %d entries in %d pages, want 491 in %d", pageSize, r.Entries, r.Pages, wantPages)
		}
		if probes.Failing(r.Findings()) {
			t.Errorf("healthy lab fails: %v", r.Findings())
		}
	}

	// Including disabled accounts counts them apart (no bit-and rule sent).
	cfg := labConfig(l, l.DirectoryAddr())
	cfg.IncludeDisabled = true
	r, err := scan(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := domain(r, "contoso.test"); d.AccountDisabled != 4 || d.Users != 488 || strings.Contains(r.Filter, "803") {
		t.Errorf("include disabled: %+v, filter %s", d, r.Filter)
	}
}

func TestLabSIPStrippedFails(t *testing.T) {
	l := startLab(t)
	if err := l.Set("directory-sip-stripped", true); err != nil {
		t.Fatal(err)
	}
	r, err := scan(t, labConfig(l, l.DirectoryAddr()))
	if err != nil {
		t.Fatal(err)
	}
	if d := domain(r, "contoso.test"); d.WithSIPProxy != 379 {
		t.Errorf("with SIP proxy = %d, want 379", d.WithSIPProxy)
	}
	if !probes.Failing(r.Findings()) {
		t.Errorf("78%% coverage is not a warning: %v", r.Findings())
	}
	details := strings.Join(r.Details(), "\n")
	if !strings.Contains(details, "CN=user0000,") || !strings.Contains(details, "more not shown") {
		t.Errorf("details lack the offenders:\n%s", details)
	}
}

func TestWrongPasswordIsClearAndSecretFree(t *testing.T) {
	l := startLab(t)
	cfg := labConfig(l, l.DirectoryAddr())
	cfg.Password = "Hunter2-not-the-password"
	_, err := scan(t, cfg)
	if err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "invalid credentials") || !strings.Contains(probes.FixOf(err), "SFBEX_LDAP_PASSWORD") {
		t.Errorf("unclear error: %v / %s", err, probes.FixOf(err))
	}
	// The right password must not leak either, from a successful run.
	good := labConfig(l, l.DirectoryAddr())
	r, err := scan(t, good)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(r)
	cfgJS, _ := json.Marshal(good)
	for _, text := range []string{err2s(err), probes.FixOf(err), string(js), string(cfgJS), strings.Join(r.Details(), "\n")} {
		for _, secret := range []string{"Hunter2-not-the-password", l.DirectoryPassword()} {
			if strings.Contains(text, secret) {
				t.Errorf("secret in %q", text)
			}
		}
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDownAndUnreachable(t *testing.T) {
	l := startLab(t)
	if err := l.Set("directory-down", true); err != nil {
		t.Fatal(err)
	}
	if _, err := scan(t, labConfig(l, l.DirectoryAddr())); err == nil || !strings.Contains(err.Error(), "closed the connection") {
		t.Errorf("directory-down: %v", err)
	}
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := scan(t, labConfig(l, addr)); err == nil || !strings.Contains(err.Error(), "refused the connection") || !strings.Contains(probes.FixOf(err), "port") {
		t.Errorf("unreachable: %v", err)
	}
}

// A connection cut mid-scan (after a few pages) gives an error, no result.
func TestCutMidScanReturnsNoResult(t *testing.T) {
	l := startLab(t)
	proxy := cuttingProxy(t, l.DirectoryAddr(), 20_000)
	cfg := labConfig(l, proxy)
	cfg.PageSize = 10
	_, err := scan(t, cfg)
	if err == nil {
		t.Fatal("a scan cut mid-way succeeded")
	}
	if !strings.Contains(err.Error(), "entries in") && !strings.Contains(err.Error(), "closed") {
		t.Errorf("error does not say where the scan broke: %v", err)
	}
}

// cuttingProxy forwards to target and closes each connection once limit
// bytes came back from the server.
func cuttingProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp4", target)
			if err != nil {
				c.Close()
				continue
			}
			var n atomic.Int64
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				buf := make([]byte, 4096)
				for {
					k, err := s.Read(buf)
					if k > 0 {
						if _, werr := c.Write(buf[:k]); werr != nil {
							return
						}
						if n.Add(int64(k)) > limit {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestTimeoutSaysWhatToDo(t *testing.T) {
	l := startLab(t)
	p, err := NewProber(labConfig(l, cuttingProxy(t, l.DirectoryAddr(), 1<<40)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Probe(ctx); err == nil {
		t.Fatal("a cancelled scan succeeded")
	}
}
