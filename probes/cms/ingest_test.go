package cms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testToken = "s3cret-token-value-0123456789"

func post(t *testing.T, h http.Handler, path, auth string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://agent"+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), testToken) {
		t.Fatalf("the token is in the response: %s", rec.Body)
	}
	return rec
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Dir(dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, filepath.Dir(dir)+"/"))
		}
		return nil
	})
	return out
}

func TestIngestIsOffWithoutAToken(t *testing.T) {
	dir := t.TempDir()
	rec := post(t, &Ingest{Dir: dir}, "/api/snapshots", "Bearer ", readTestdata(t, "sfb-ps7.json"))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "SFBEX_INGEST_TOKEN") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("wrote %v", got)
	}
}

func TestIngestAuth(t *testing.T) {
	dir := t.TempDir()
	in := &Ingest{Dir: dir, Token: testToken, MaxBytes: 1 << 20}
	body := readTestdata(t, "sfb-ps7.json")
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + testToken, "Bearer " + testToken + "x", "Bearer " + testToken[:10], testToken} {
		if rec := post(t, in, "/api/snapshots", auth, body); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("auth %q: %d", auth, rec.Code)
		}
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("wrote %v", got)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/snapshots", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
	if s := (fmtAll(in.Token)); strings.Contains(s, testToken) {
		t.Errorf("the token prints: %s", s)
	}
}

func TestIngestStoresUnderTheSnapshotsOwnName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snapshots")
	os.Mkdir(dir, 0o755)
	in := &Ingest{Dir: dir, Token: testToken, MaxBytes: 1 << 20}
	// Path tricks in the request never reach the file name.
	for _, path := range []string{"/api/snapshots", "/api/snapshots/../../etc/passwd", "/api/snapshots/%2e%2e%2fx", "/api/snapshots/" + strings.Repeat("a", 5000)} {
		rec := post(t, in, path, "bearer "+testToken, readTestdata(t, "sfb-ps51.json"))
		if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"sfb-fe02.contoso.com.json"`) {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if got := listDir(t, dir); len(got) != 1 || got[0] != "snapshots/sfb-fe02.contoso.com.json" {
		t.Fatalf("files: %v", got)
	}
	stored, _ := os.ReadFile(filepath.Join(dir, "sfb-fe02.contoso.com.json"))
	if !bytes.Equal(stored, readTestdata(t, "sfb-ps51.json")) {
		t.Fatal("stored bytes differ")
	}
	// Tricks in the snapshot's own computer name stay inside the folder.
	good := string(readTestdata(t, "exchange-ps7.json"))
	for _, name := range []string{`../../evil`, `/etc/cron.d/x`, `C:\\Windows\\x`, `ex\u000001`, strings.Repeat("b", 4000), `.hidden`} {
		b := strings.NewReplacer(`"ComputerFqdn": "ex01.contoso.com"`, `"ComputerFqdn": "`+name+`"`).Replace(good)
		rec := post(t, in, "/api/snapshots", "Bearer "+testToken, []byte(b))
		if rec.Code != http.StatusCreated {
			t.Errorf("%q: %d %s", name, rec.Code, rec.Body)
		}
	}
	dots := strings.Replace(good, `"ComputerFqdn": "ex01.contoso.com"`, `"ComputerFqdn": "..", "ComputerName": "/"`, 1)
	if rec := post(t, in, "/api/snapshots", "Bearer "+testToken, []byte(dots)); rec.Code != http.StatusBadRequest {
		t.Errorf("a name of dots: %d", rec.Code)
	}
	for _, f := range listDir(t, dir) {
		if !strings.HasPrefix(f, "snapshots/") || strings.Count(f, "/") != 1 || strings.HasPrefix(filepath.Base(f), ".") || len(filepath.Base(f)) > 110 {
			t.Errorf("file outside or hidden: %q", f)
		}
	}
	// The probe reads what the endpoint stored.
	if _, err := NewProber(Config{Path: dir, SnapshotMaxAge: 1, ReplicaStaleAfter: 1, OAuthRenewDays: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestIngestRejectsBadBodies(t *testing.T) {
	dir := t.TempDir()
	in := &Ingest{Dir: dir, Token: testToken, MaxBytes: 64 << 10}
	good := readTestdata(t, "sfb-ps7.json")
	for name, tc := range map[string]struct {
		body []byte
		code int
	}{
		"oversize":  {append(bytes.Repeat([]byte(" "), 64<<10), good...), http.StatusRequestEntityTooLarge},
		"html":      {[]byte("<html></html>"), http.StatusBadRequest},
		"malformed": {good[:100], http.StatusBadRequest},
		"nul":       {[]byte("{\x00}"), http.StatusBadRequest},
		"no shell":  {bytes.Replace(good, []byte(`"Shell": "SkypeForBusiness"`), []byte(`"Shell": ""`), 1), http.StatusBadRequest},
	} {
		if rec := post(t, in, "/api/snapshots", "Bearer "+testToken, tc.body); rec.Code != tc.code {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("wrote %v", got)
	}
	// An older snapshot never replaces a newer one.
	if rec := post(t, in, "/", "Bearer "+testToken, good); rec.Code != http.StatusCreated {
		t.Fatal(rec.Code)
	}
	older := bytes.Replace(good, []byte("2023-11-14T22:13:20.1234567Z"), []byte("2023-11-14T20:00:00Z"), 1)
	if rec := post(t, in, "/", "Bearer "+testToken, older); rec.Code != http.StatusConflict {
		t.Fatalf("older: %d", rec.Code)
	}
}

func fmtAll(v any) string {
	var b strings.Builder
	for _, f := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x"} {
		io.WriteString(&b, fmt.Sprintf(f, v))
	}
	j, _ := json.Marshal(v)
	return b.String() + string(j)
}

// TestIngestTakesWhatTheScriptPosts: the script POSTs the UTF-8 bytes of
// ConvertTo-Json's output, under either shell; the agent stores them as
// they came.
func TestIngestTakesWhatTheScriptPosts(t *testing.T) {
	dir := t.TempDir()
	in := &Ingest{Dir: dir, Token: testToken, MaxBytes: 1 << 20}
	for name, src := range map[string]string{"sfb-ps51.json": "sfb-fe02.contoso.com", "exchange-ps51.json": "exchange-ex02.contoso.com",
		"sfb-ps51-th-TH.json": "sfb-fe03.contoso.co.th", "exchange-ps7.json": "exchange-ex01.contoso.com"} {
		body := readTestdata(t, name)
		if rec := post(t, in, "/api/snapshots", "Bearer "+testToken, body); rec.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
		stored, err := os.ReadFile(filepath.Join(dir, src+".json"))
		if err != nil || !bytes.Equal(stored, body) {
			t.Fatalf("%s: stored %d bytes, %v", name, len(stored), err)
		}
	}
}
