package cms

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

// Ingest accepts snapshots by POST /api/snapshots and writes each into Dir
// under its source's name, atomically. The name comes from the snapshot's
// own content, never from the request's path or headers.
type Ingest struct {
	// Dir is the snapshot folder; empty disables the endpoint.
	Dir string
	// Token is the bearer token; empty disables the endpoint.
	Token config.Secret
	// MaxBytes bounds a request body.
	MaxBytes int64

	mu sync.Mutex // one write at a time, so "newest wins" holds
}

func (in *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if in.Token == "" || in.Dir == "" {
		http.Error(w, "snapshot upload is off: set SFBEX_INGEST_TOKEN (or SFBEX_INGEST_TOKEN_FILE) and point SFBEX_CMS_SNAPSHOT_PATH at a folder (docs/cms-snapshots.md)", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a snapshot to this URL", http.StatusMethodNotAllowed)
		return
	}
	if !in.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sfbex_exporter"`)
		http.Error(w, "missing or wrong bearer token: send Authorization: Bearer <the value of SFBEX_INGEST_TOKEN>", http.StatusUnauthorized)
		return
	}
	limit := in.MaxBytes
	if limit <= 0 || limit > MaxSnapshotBytes {
		limit = MaxSnapshotBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("snapshot larger than %d bytes (SFBEX_INGEST_MAX_BYTES)", limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	}
	snap, err := Parse(body)
	if err != nil {
		http.Error(w, "not a snapshot: "+err.Error(), http.StatusBadRequest)
		return
	}
	src, _ := snap.Source() // Parse checked it
	name, err := in.write(src, snap, body)
	if err != nil {
		var older errOlder
		if errors.As(err, &older) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		http.Error(w, "cannot store the snapshot; see the agent's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"source": src, "file": name})
}

// authorized compares the token in constant time. Hashing first makes the
// comparison independent of the lengths too.
func (in *Ingest) authorized(header string) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	want := sha256.Sum256([]byte(in.Token.Reveal()))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

type errOlder struct{ msg string }

func (e errOlder) Error() string { return e.msg }

// write stores body as <source>.json in Dir through a temporary file and
// a rename, unless the stored snapshot of that source is newer.
func (in *Ingest) write(src string, snap *Snapshot, body []byte) (string, error) {
	name := src + ".json"
	if !validFileName(name) {
		return "", errors.New("unsafe source name")
	}
	dir, err := filepath.Abs(in.Dir)
	if err != nil {
		return "", err
	}
	target := filepath.Join(dir, name)
	if filepath.Dir(target) != dir {
		return "", errors.New("unsafe source name")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if old, err := readSnapshot(target); err == nil && old.Timestamp.After(snap.Timestamp.Time) {
		return "", errOlder{fmt.Sprintf("the stored snapshot of %s is newer (%s); not replaced", src, old.Timestamp.UTC().Format("2006-01-02T15:04:05Z"))}
	}
	tmp, err := os.CreateTemp(dir, ".upload-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return "", err
	}
	return name, os.Rename(tmp.Name(), target)
}

// validFileName accepts what Snapshot.Source produces and nothing that
// could leave the folder.
func validFileName(n string) bool {
	if n == "" || len(n) > maxSourceLen+len(".json") || strings.HasPrefix(n, ".") || strings.Contains(n, "..") {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
