package cms

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

func TestConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.json")
	os.WriteFile(file, []byte("{}"), 0o644)
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1:53"}
	const token = "tok-0123456789abcdef-SECRET"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad max age", map[string]string{"SFBEX_CMS_SNAPSHOT_MAX_AGE": "soon"}, []string{"SFBEX_CMS_SNAPSHOT_MAX_AGE", `"soon"`, "e.g."}},
		{"negative replica threshold", map[string]string{"SFBEX_CMS_REPLICA_STALE_AFTER": "-1m"}, []string{"SFBEX_CMS_REPLICA_STALE_AFTER=-1m0s", "e.g. SFBEX_CMS_REPLICA_STALE_AFTER=10m"}},
		{"timeout over interval", map[string]string{"SFBEX_CMS_INTERVAL": "10s", "SFBEX_CMS_TIMEOUT": "20s"}, []string{"SFBEX_CMS_TIMEOUT=20s", "e.g."}},
		{"token without folder", map[string]string{"SFBEX_INGEST_TOKEN": token}, []string{"SFBEX_INGEST_TOKEN", "SFBEX_CMS_SNAPSHOT_PATH", "e.g."}},
		{"token with a file", map[string]string{"SFBEX_INGEST_TOKEN": token, "SFBEX_CMS_SNAPSHOT_PATH": file}, []string{"not an existing folder"}},
		{"short token", map[string]string{"SFBEX_INGEST_TOKEN": "abc", "SFBEX_CMS_SNAPSHOT_PATH": dir}, []string{"shorter than 16", "SFBEX_INGEST_TOKEN_FILE"}},
		{"app id not a GUID", map[string]string{"SFBEX_EXO_EWS_REQUIRED_APP_IDS": "11111111-2222-3333-4444-555555555555,skype-hybrid"}, []string{`SFBEX_EXO_EWS_REQUIRED_APP_IDS: "skype-hybrid" is not a GUID`, "e.g. SFBEX_EXO_EWS_REQUIRED_APP_IDS=11111111-2222-3333-4444-555555555555,"}},
		{"bad shutdown date", map[string]string{"SFBEX_EWS_ONLINE_SHUTDOWN_DATE": "1 April 2027"}, []string{"SFBEX_EWS_ONLINE_SHUTDOWN_DATE", "e.g."}},
		{"max bytes", map[string]string{"SFBEX_INGEST_MAX_BYTES": "99999999"}, []string{"SFBEX_INGEST_MAX_BYTES=99999999", "e.g."}},
		{"hybrid app: unknown product", map[string]string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS": "sfb_2016=6.0.9319.881"}, []string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS", `"sfb_2016" is not one of sfb_2015,sfb_2019,sfb_se`, "e.g. SFBEX_SFB_HYBRID_APP_MIN_BUILDS=sfb_2015=6.0.9319.881"}},
		{"hybrid app: not a build", map[string]string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS": "sfb_2019=latest"}, []string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS", "not major.minor", "e.g."}},
		{"hybrid app: no build", map[string]string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS": "sfb_2019"}, []string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS", "key=value", "e.g."}},
		{"hybrid app: twice", map[string]string{"SFBEX_SFB_HYBRID_APP_MIN_BUILDS": "sfb_se=7.0.2046.820,sfb_se=7.0.2046.900"}, []string{"sfb_se is given twice"}},
	} {
		env, _ := probestest.Env(t, probestest.Merge(base, tc.env))
		_, err := Checks(env)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("%s: the token is in the error", tc.name)
		}
	}
	// The token from a file, and the endpoint on.
	tf := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tf, []byte(token+"\n"), 0o600)
	env, routes := probestest.Env(t, probestest.With(base, "SFBEX_INGEST_TOKEN_FILE", tf, "SFBEX_CMS_SNAPSHOT_PATH", dir))
	checks, err := Checks(env)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range checks {
		found = found || c.Probe == "cms" && c.Target == dir
	}
	if !found {
		t.Error("no cms check")
	}
	snap, _ := os.ReadFile("testdata/exchange-ps7.json")
	h := routes["/api/snapshots"]
	req := httptest.NewRequest(http.MethodPost, "/api/snapshots", bytes.NewReader(snap))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "exchange-ex01.contoso.com.json")); err != nil {
		t.Fatal(err)
	}
	// Without a token the endpoint says how to turn it on.
	env, routes = probestest.Env(t, probestest.With(base, "SFBEX_CMS_SNAPSHOT_PATH", dir))
	if _, err := Checks(env); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	routes["/api/snapshots"].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/snapshots", bytes.NewReader(snap)))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusNotFound || !strings.Contains(string(body), "SFBEX_INGEST_TOKEN") {
		t.Fatalf("%d %s", rec.Code, body)
	}
}

// TestHybridAppMinBuilds: the configured minimums replace the table's
// for the products named; the others keep the table's (KB5065372).
func TestHybridAppMinBuilds(t *testing.T) {
	v := &Vars{HybridAppMinBuilds: []string{"sfb_2019=7.0.2046.600", " "}}
	m, err := v.minBuilds()
	if err != nil {
		t.Fatal(err)
	}
	if m["sfb_2019"] != support.MustParse("7.0.2046.600") || m["sfb_2015"] != support.MustParse("6.0.9319.881") || m["sfb_se"] != support.MustParse("7.0.2046.820") {
		t.Errorf("minimums %v", m)
	}
	if support.MinHybridApp["sfb_2019"] != support.MustParse("7.0.2046.553") {
		t.Error("the configuration changed the lifecycle table")
	}
}
