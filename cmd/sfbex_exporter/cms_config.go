package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/cms"
)

// CMSSettings configures the snapshot checks (probes/cms) and the
// snapshot upload endpoint.
type CMSSettings struct {
	// Path is a snapshot file or folder; empty turns the family off.
	Path              string
	Dir               bool // Path is a folder, so uploads can land in it
	Interval, Timeout time.Duration
	MaxAge            time.Duration
	ReplicaStaleAfter time.Duration
	Token             cms.Token
	MaxBytes          int64
}

// cmsSettings checks and parses the CMS snapshot variables.
func (s *Settings) cmsSettings(c *Config) error {
	cs := &s.CMS
	for _, d := range []struct {
		name string
		v    time.Duration
		eg   string
	}{{"SFBEX_CMS_INTERVAL", c.CMSInterval, "1m"}, {"SFBEX_CMS_TIMEOUT", c.CMSTimeout, "30s"},
		{"SFBEX_CMS_SNAPSHOT_MAX_AGE", c.CMSSnapshotMaxAge, "30m"}, {"SFBEX_CMS_REPLICA_STALE_AFTER", c.CMSReplicaStaleAfter, "10m"}} {
		if d.v <= 0 {
			return fmt.Errorf("%s=%s must be positive; e.g. %s=%s", d.name, d.v, d.name, d.eg)
		}
	}
	if c.CMSTimeout > c.CMSInterval {
		return fmt.Errorf("SFBEX_CMS_TIMEOUT=%s is longer than SFBEX_CMS_INTERVAL=%s: runs would overlap; e.g. SFBEX_CMS_TIMEOUT=%s", c.CMSTimeout, c.CMSInterval, c.CMSInterval/2)
	}
	cs.Interval, cs.Timeout, cs.MaxAge, cs.ReplicaStaleAfter = c.CMSInterval, c.CMSTimeout, c.CMSSnapshotMaxAge, c.CMSReplicaStaleAfter
	if c.IngestMaxBytes < 1024 || c.IngestMaxBytes > cms.MaxSnapshotBytes {
		return fmt.Errorf("SFBEX_INGEST_MAX_BYTES=%d must be from 1024 to %d; e.g. SFBEX_INGEST_MAX_BYTES=1048576", c.IngestMaxBytes, cms.MaxSnapshotBytes)
	}
	cs.MaxBytes = c.IngestMaxBytes
	// The token is never echoed, not even in an error.
	cs.Token = cms.Token(c.IngestToken)
	if c.CMSSnapshotPath != "" {
		p, err := filepath.Abs(c.CMSSnapshotPath)
		if err != nil {
			return fmt.Errorf("SFBEX_CMS_SNAPSHOT_PATH=%q: %v; e.g. SFBEX_CMS_SNAPSHOT_PATH=/var/lib/sfbex/snapshots", c.CMSSnapshotPath, err)
		}
		cs.Path = p
		if st, err := os.Stat(p); err == nil {
			cs.Dir = st.IsDir()
		}
	}
	if cs.Token != "" {
		if len(c.IngestToken) < 16 {
			return fmt.Errorf("SFBEX_INGEST_TOKEN is shorter than 16 characters: use a long random value, e.g. SFBEX_INGEST_TOKEN_FILE=/run/secrets/sfbex_ingest_token holding the output of `openssl rand -hex 32`")
		}
		if cs.Path == "" || !cs.Dir {
			return fmt.Errorf("SFBEX_INGEST_TOKEN is set but SFBEX_CMS_SNAPSHOT_PATH=%q is not an existing folder for the uploads to go to; e.g. SFBEX_CMS_SNAPSHOT_PATH=/var/lib/sfbex/snapshots", c.CMSSnapshotPath)
		}
	}
	return nil
}

// cmsChecks builds the snapshot check, when a snapshot path is set.
func cmsChecks(s *Settings) ([]*probes.Check, error) {
	cs := &s.CMS
	if cs.Path == "" {
		return nil, nil
	}
	p, err := cms.NewProber(cms.Config{
		Path:              cs.Path,
		Deployment:        cms.Deployment{Lync: s.Lync, Exchange: s.Exchange, Cloud: s.Cloud},
		SnapshotMaxAge:    cs.MaxAge,
		ReplicaStaleAfter: cs.ReplicaStaleAfter,
		OAuthRenewDays:    s.Certs.Limits.OAuthRenewDays,
	})
	if err != nil {
		return nil, fmt.Errorf("cms check %s: %w", cs.Path, err)
	}
	return []*probes.Check{{Probe: "cms", Target: cs.Path, Interval: cs.Interval, Timeout: cs.Timeout, Run: p.Probe}}, nil
}

// snapshotUpload is POST /api/snapshots: off (404 with how to turn it on)
// without SFBEX_INGEST_TOKEN.
func snapshotUpload(s *Settings) http.Handler {
	in := &cms.Ingest{Token: s.CMS.Token, MaxBytes: s.CMS.MaxBytes}
	if s.CMS.Dir {
		in.Dir = s.CMS.Path
	}
	return in
}
