package cms

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/lifecycle"
)

// Family reads the settings snapshots the PowerShell exporter writes (CMS
// replication, the integration settings of both sides): one check over
// SFBEX_CMS_SNAPSHOT_PATH, and the upload endpoint POST /api/snapshots.
var Family = probes.Family{Name: "cms", Vars: &Vars{}, Checks: Checks}

// Vars are the CMS family's variables (docs/configuration.md#cms-snapshots).
type Vars struct {
	SnapshotPath      string        `env:"SFBEX_CMS_SNAPSHOT_PATH"`
	Interval          time.Duration `env:"SFBEX_CMS_INTERVAL, default=1m"`
	Timeout           time.Duration `env:"SFBEX_CMS_TIMEOUT, default=30s"`
	SnapshotMaxAge    time.Duration `env:"SFBEX_CMS_SNAPSHOT_MAX_AGE, default=30m"`
	ReplicaStaleAfter time.Duration `env:"SFBEX_CMS_REPLICA_STALE_AFTER, default=10m"`
	IngestToken       config.Secret `env:"SFBEX_INGEST_TOKEN"`
	IngestMaxBytes    int64         `env:"SFBEX_INGEST_MAX_BYTES, default=1048576"`
	// The Exchange Online EWS checks: the application IDs that must be
	// allowed, and the user agents the integration's EWS requests carry.
	EWSRequiredAppIDs []string `env:"SFBEX_EXO_EWS_REQUIRED_APP_IDS"`
	EWSUserAgents     []string `env:"SFBEX_EXO_EWS_USER_AGENTS"`
	// HybridAppMinBuilds overrides the minimum build per product for the
	// dedicated hybrid application (a secondary source, KB5065372):
	// product=build items; products not named keep support.MinHybridApp.
	HybridAppMinBuilds []string `env:"SFBEX_SFB_HYBRID_APP_MIN_BUILDS"`
}

// hybridAppExample is an example of SFBEX_SFB_HYBRID_APP_MIN_BUILDS.
const hybridAppExample = "sfb_2015=6.0.9319.881,sfb_2019=7.0.2046.553,sfb_se=7.0.2046.820"

// minBuilds is the lifecycle table's minimum builds with the configured
// ones over them.
func (v *Vars) minBuilds() (map[string]support.Build, error) {
	products := slices.Sorted(maps.Keys(support.MinHybridApp))
	set, err := config.Pairs("SFBEX_SFB_HYBRID_APP_MIN_BUILDS", v.HybridAppMinBuilds, products, func(s string) error {
		_, err := support.Parse(s)
		return err
	}, hybridAppExample)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(support.MinHybridApp)
	for k, s := range set {
		out[k] = support.MustParse(s)
	}
	return out, nil
}

// Checks builds the snapshot check when a snapshot path is set, and serves
// the upload endpoint (off, 404 with how to turn it on, without a token).
func Checks(env *probes.Env) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	if err := v.check(); err != nil {
		return nil, err
	}
	// The Exchange Auth Certificate in the snapshots is judged with the
	// certificate family's renewal window.
	limits, err := certs.LoadThresholds(env.Vars)
	if err != nil {
		return nil, err
	}
	minBuilds, err := v.minBuilds()
	if err != nil {
		return nil, err
	}
	ews, err := v.ews(env.Vars)
	if err != nil {
		return nil, err
	}
	path, dir, err := v.path()
	if err != nil {
		return nil, err
	}
	in := &Ingest{Token: v.IngestToken, MaxBytes: v.IngestMaxBytes}
	if dir {
		in.Dir = path
	}
	env.Handle("/api/snapshots", in)
	if path == "" {
		return nil, nil
	}
	e := env.Estate
	p, err := NewProber(Config{
		Path:               path,
		Deployment:         Deployment{Lync: e.Lync, Exchange: e.Exchange, Cloud: e.Cloud},
		SnapshotMaxAge:     v.SnapshotMaxAge,
		ReplicaStaleAfter:  v.ReplicaStaleAfter,
		OAuthRenewDays:     limits.OAuthRenewDays,
		HybridAppMinBuilds: minBuilds,
		EWS:                ews,
	})
	if err != nil {
		return nil, fmt.Errorf("cms check %s: %w", path, err)
	}
	return []*probes.Check{{Probe: "cms", Target: path, Interval: v.Interval, Timeout: v.Timeout, Run: p.Probe}}, nil
}

// check checks the schedule and the limits.
func (v *Vars) check() error {
	if err := config.Schedule("SFBEX_CMS", v.Interval, v.Timeout); err != nil {
		return err
	}
	if err := config.Positive("SFBEX_CMS_SNAPSHOT_MAX_AGE", v.SnapshotMaxAge, "30m"); err != nil {
		return err
	}
	if err := config.Positive("SFBEX_CMS_REPLICA_STALE_AFTER", v.ReplicaStaleAfter, "10m"); err != nil {
		return err
	}
	return config.Range("SFBEX_INGEST_MAX_BYTES", v.IngestMaxBytes, 1024, MaxSnapshotBytes, "1048576")
}

// ews checks the EWS checks' lists; the shutdown day is the lifecycle
// family's (SFBEX_EWS_ONLINE_SHUTDOWN_DATE), which words its errors.
func (v *Vars) ews(src config.Source) (EWSConfig, error) {
	ids, err := config.GUIDs("SFBEX_EXO_EWS_REQUIRED_APP_IDS", v.EWSRequiredAppIDs, "11111111-2222-3333-4444-555555555555,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
	if err != nil {
		return EWSConfig{}, err
	}
	var lv lifecycle.Vars
	if err := config.Load(src, &lv); err != nil {
		return EWSConfig{}, err
	}
	day, err := time.Parse(time.DateOnly, lv.EWSShutdown)
	if err != nil {
		return EWSConfig{}, fmt.Errorf("SFBEX_EWS_ONLINE_SHUTDOWN_DATE=%q is not a date (YYYY-MM-DD); e.g. SFBEX_EWS_ONLINE_SHUTDOWN_DATE=2027-04-01", lv.EWSShutdown)
	}
	return EWSConfig{RequiredAppIDs: ids, UserAgents: config.Items(v.EWSUserAgents), Shutdown: day}, nil
}

// path makes the snapshot path absolute and says whether it is a folder,
// which uploads need.
func (v *Vars) path() (path string, dir bool, err error) {
	if v.SnapshotPath != "" {
		if path, err = filepath.Abs(v.SnapshotPath); err != nil {
			return "", false, fmt.Errorf("SFBEX_CMS_SNAPSHOT_PATH=%q: %v; e.g. SFBEX_CMS_SNAPSHOT_PATH=/var/lib/sfbex/snapshots", v.SnapshotPath, err)
		}
		if st, err := os.Stat(path); err == nil {
			dir = st.IsDir()
		}
	}
	if v.IngestToken.IsSet() {
		if len(v.IngestToken.Reveal()) < 16 {
			return "", false, fmt.Errorf("SFBEX_INGEST_TOKEN is shorter than 16 characters: use a long random value, e.g. SFBEX_INGEST_TOKEN_FILE=/run/secrets/sfbex_ingest_token holding the output of `openssl rand -hex 32`")
		}
		if !dir {
			return "", false, fmt.Errorf("SFBEX_INGEST_TOKEN is set but SFBEX_CMS_SNAPSHOT_PATH=%q is not an existing folder for the uploads to go to; e.g. SFBEX_CMS_SNAPSHOT_PATH=/var/lib/sfbex/snapshots", v.SnapshotPath)
		}
	}
	return path, dir, nil
}
