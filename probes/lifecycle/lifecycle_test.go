package lifecycle

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
)

func TestEWSDependenciesFollowTheDeployment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lync, exchange estate.Mode
		want           string
	}{
		{estate.OnPrem, estate.OnPrem, ""},
		{estate.Hybrid, estate.OnPrem, ""},
		{estate.OnPrem, estate.Online, "sfb_server_exchange_online"},
		{estate.Hybrid, estate.Online, "sfb_server_exchange_online"},
		{estate.OnPrem, estate.Hybrid, "sfb_server_exchange_online,exchange_hybrid"},
		{estate.Online, estate.Online, ""},
		{estate.TeamsOnly, estate.Online, ""},
		{estate.TeamsOnly, estate.Hybrid, "exchange_hybrid"},
	} {
		var names []string
		for _, d := range EWSDependencies(tc.lync, tc.exchange) {
			names = append(names, d.Name)
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("%s/%s: %q, want %q", tc.lync, tc.exchange, got, tc.want)
		}
	}
}

// Days left and severity: info before the warning window, a warning
// inside it, critical after the shutdown; the metric is the shutdown time.
func TestEWSShutdownCountdown(t *testing.T) {
	t.Parallel()
	shutdown := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		days int
		sev  probes.Severity
		text string
	}{
		{time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), 118, probes.Warning, "(118 days left)"},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 304, probes.Info, "(304 days left)"},
		{time.Date(2027, 4, 3, 12, 0, 0, 0, time.UTC), -3, probes.Critical, "(switched off 3 days ago)"},
	} {
		p := &EWSProber{Deps: []Dependency{DepSfBServer}, Shutdown: shutdown, WarnDays: 180, Now: func() time.Time { return tc.now }}
		res, err := p.Probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r := res.(*EWSResult)
		fs := r.Findings()
		if r.DaysLeft != tc.days || len(fs) != 1 || fs[0].Severity != tc.sev || !strings.Contains(fs[0].Problem, tc.text) ||
			!strings.Contains(fs[0].Problem, "2027-04-01") || !strings.Contains(fs[0].Fix, "EwsAllowedAppIDs") {
			t.Errorf("%s: days %d findings %+v", tc.now, r.DaysLeft, fs)
		}
		ms := r.AppendMetrics(nil)
		if len(ms) != 1 || !strings.Contains(ms[0].Desc().String(), "sfbex_ews_online_shutdown_timestamp_seconds") {
			t.Errorf("metrics %v", ms)
		}
	}
	// No dependency: no finding, no series.
	r, _ := (&EWSProber{Shutdown: shutdown, Now: time.Now}).Probe(context.Background())
	if len(r.Findings()) != 0 || len(r.AppendMetrics(nil)) != 0 {
		t.Error("a dependency out of nothing")
	}
}

// The public autodiscover record is evidence: on the lab (real DNS
// servers), the configuration says Exchange on-premises; when the record
// points to autodiscover.outlook.com the dependency appears, and it stays
// while DNS gives no definitive answer.
func TestEWSDependencyFromAutodiscoverRecord(t *testing.T) {
	l, err := lab.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := l.Env(time.Minute)
	var ext estate.Resolver
	for _, kv := range strings.Split(env["SFBEX_DNS_RESOLVERS"], ",") {
		if name, addr, _ := strings.Cut(kv, "="); name == "external" {
			ext = estate.Resolver{Name: name, Addr: addr}
		}
	}
	p := &EWSProber{Lync: estate.Hybrid, Shutdown: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), WarnDays: 180, Now: time.Now,
		EmailDomains: []string{lab.Domain}, Resolvers: []estate.Resolver{ext}, QueryTimeout: time.Second}
	run := func() (*EWSResult, error) {
		r, err := p.Probe(context.Background())
		return r.(*EWSResult), err
	}
	if r, err := run(); err != nil || len(r.Dependencies) != 0 {
		t.Fatalf("healthy lab: %+v %v", r, err)
	}
	l.Set("autodiscover-online", true)
	r, err := run()
	if err != nil || len(r.Dependencies) != 1 || r.Dependencies[0] != DepSfBServer || len(r.Evidence) != 1 || !strings.Contains(r.Evidence[0], "autodiscover.outlook.com") {
		t.Fatalf("autodiscover-online: %+v %v", r, err)
	}
	// The resolver stops answering: the last definitive answer holds.
	mute, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	p.Resolvers = []estate.Resolver{{Name: "mute", Addr: mute.LocalAddr().String()}}
	p.QueryTimeout = 200 * time.Millisecond
	if r, err := run(); err == nil || len(r.Dependencies) != 1 {
		t.Fatalf("no answer: %+v %v", r, err)
	}
}
