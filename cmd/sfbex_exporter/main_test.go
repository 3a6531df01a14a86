package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/web"
	"github.com/sfbex/sfbex_exporter/lab"
)

// The lab answers on loopback only, so these run the real command end to end.

func TestCheckOnHealthyLabExitsZero(t *testing.T) {
	clearEnv(t)
	if code := run([]string{"check", "--lab", "--log.level=error"}); code != 0 {
		t.Fatalf("check --lab exited %d on a healthy lab", code)
	}
}

func TestCheckWithEachLabFaultExitsNonZero(t *testing.T) {
	for _, f := range []string{"dns-drift", "dns-missing", "dns-mixed", "dns-split"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"check"},                              // nothing configured
		{"check", "--lab.fault=dns-drift"},     // fault without --lab
		{"check", "--lab", "--lab.fault=nope"}, // unknown fault: cannot start the lab
		{"check", "--lab.variant=gcchigh"},     // variant without --lab
		{"--no-such-flag"},
	} {
		if code := run(args); code == 0 {
			t.Errorf("run(%v) exited 0", args)
		}
	}
}

// A burst of scrapers beyond the limit waits for a slot; none is turned away.
func TestQueuedMakesRequestsWaitInsteadOfFailing(t *testing.T) {
	release := make(chan struct{})
	var inside, peak atomic.Int32
	h := queued(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		inside.Add(-1)
		w.Write([]byte("ok"))
	}), 2)
	srv := httptest.NewServer(h)
	defer srv.Close()
	codes := make(chan int, 6)
	for range 6 {
		go func() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for inside.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range 6 {
		if c := <-codes; c != 200 {
			t.Errorf("status %d, want 200", c)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("%d requests inside at once, want 2", p)
	}
}

// clearEnv removes every SFBEX_* variable for the test's duration: run()
// reads the process environment, as the agent does.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SFBEX_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// setEnv sets exactly the SFBEX_* variables of env for the test's duration.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// The agent serves its runbooks and references, so an alert's
// runbook_url (http://<instance>/runbooks#…) opens on the agent itself.
func TestAgentServesRunbooksAndReferences(t *testing.T) {
	a := &agent{Routes: map[string]http.Handler{}}
	store := collector.NewStore(nil)
	srv := httptest.NewServer(newMux(store, agentRegistry(false), a, nil))
	defer srv.Close()
	for path, want := range map[string]string{
		"/runbooks":           `id="agent-down"`,
		"/docs/metrics":       `id="sfbex_probe_state"`,
		"/docs/configuration": `id="sfbex_ca_file"`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want 200 and %s", path, resp.StatusCode, want)
		}
	}
}

// Every lab variant (GCC High, DoD, …) is a healthy estate: no check
// fails on it, so a configuration of that shape shows no false finding.
func TestCheckOnEveryLabVariantExitsZero(t *testing.T) {
	for _, v := range lab.VariantNames() {
		if v == "exchange-online" || v == "exchange-hybrid" {
			continue // a real dependency: TestExchangeOnlineLabStatesTheEWSDependency
		}
		t.Run(v, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.variant=" + v, "--log.level=error"}); code != 0 {
				t.Fatalf("check --lab --lab.variant=%s exited %d on a healthy lab", v, code)
			}
		})
	}
}

// Skype for Business on-premises with Exchange Online: `check --verbose`
// states the EWS dependency and the days left, and nothing else fails.
func TestExchangeOnlineLabStatesTheEWSDependency(t *testing.T) {
	for _, v := range []string{"exchange-online", "exchange-hybrid"} {
		t.Run(v, func(t *testing.T) { testEWSDependencyLab(t, v) })
	}
}

// testEWSDependencyLab: the variant's only failing check is the EWS
// dependency; its snapshot's Exchange Online settings pass.
func testEWSDependencyLab(t *testing.T, variant string) {
	clearEnv(t)
	l, err := startLab(variant, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := configure(config.Map(l.Env(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	store := collector.NewStore(a.Checks)
	collector.RunOnce(t.Context(), store, a.Checks, a.MaxConcurrent)
	failed := web.WriteReport(&out, web.Views(store.Entries()), true)
	days := int(time.Until(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	for _, want := range []string{"[FAIL] lifecycle    ews-online", "EWS dependency sfb_server_exchange_online: ", " days left until 2027-04-01", "days left): Skype for Business Server reaches", "exchange_online/ews_enabled"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if failed != 1 || !strings.Contains(out.String(), fmt.Sprintf("%d days left", days)) && !strings.Contains(out.String(), fmt.Sprintf("%d days left", days-1)) {
		t.Errorf("%d failed checks, want 1 (the dependency), %d days left\n%s", failed, days, out.String())
	}
}

// The GCC High lab really is GCC High: judged as worldwide, its Exchange
// Online hosting provider (exap.um.office365.us) is the wrong one.
func TestGCCHighLabIsJudgedByItsCloud(t *testing.T) {
	clearEnv(t)
	l, err := startLab("gcchigh", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for cloud, want := range map[string]int{"gcchigh": 0, "worldwide": 1} {
		env := l.Env(time.Minute)
		env["SFBEX_CLOUD"] = cloud
		a, err := configure(config.Map(env))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		store := collector.NewStore(a.Checks)
		collector.RunOnce(t.Context(), store, a.Checks, a.MaxConcurrent)
		if got := web.WriteReport(&out, web.Views(store.Entries()), false); got != want || (want == 1 && !strings.Contains(out.String(), "exap.um.outlook.com")) {
			t.Errorf("SFBEX_CLOUD=%s on the GCC High lab: %d failing checks, want %d\n%s", cloud, got, want, out.String())
		}
	}
}

// The DNS faults mean something in the Teams-only lab too: a record back
// on-premises, one missing, federation left on the old Edge, the views
// disagreeing, each judged against the decommission guidance.
func TestCheckWithEachDNSFaultOnTeamsOnlyLabExitsNonZero(t *testing.T) {
	for _, f := range []string{"dns-drift", "dns-missing", "dns-mixed", "dns-split"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.variant=teamsonly", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.variant=teamsonly --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}
