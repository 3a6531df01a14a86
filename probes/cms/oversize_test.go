package cms

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// An oversized snapshot is reported with its real size, and is not read.
func TestOversizedSnapshotReportsItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 200 << 20 // sparse: costs no disk
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = readSnapshot(path)
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(size)+" bytes") {
		t.Fatalf("error %v, want the file's size %d", err, size)
	}
}
