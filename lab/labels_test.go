package lab

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The cms check's target label is the lab's snapshot path: it must be the
// same on every start, and clean.
func TestLabSnapshotPathIsStableAndClean(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := l.Env(time.Minute)["SFBEX_CMS_SNAPSHOT_PATH"]
	if p != filepath.Clean(p) || !filepath.IsAbs(p) {
		t.Errorf("SFBEX_CMS_SNAPSHOT_PATH=%q is not a clean absolute path", p)
	}
	if runtime.GOOS == "linux" && filepath.Dir(p) != cmsRoot() {
		t.Errorf("SFBEX_CMS_SNAPSHOT_PATH=%q: not a fixed slot under %s, so the target label changes on every start", p, cmsRoot())
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Errorf("%s: %v", p, err)
	}
}

// Labs running at once get different folders; a lab started after one
// closed gets that one's folder back, emptied.
func TestCMSSlotsAreExclusiveAndReused(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("slots need flock")
	}
	root, tmp := filepath.Join(t.TempDir(), "slots"), t.TempDir()
	a, releaseA, err := claimCMSDir(root, tmp)
	if err != nil {
		t.Fatal(err)
	}
	b, releaseB, err := claimCMSDir(root, tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseB()
	if a == b || filepath.Dir(a) != root || filepath.Dir(b) != root {
		t.Fatalf("two labs at once got %s and %s, want two slots under %s", a, b, root)
	}
	if err := os.WriteFile(filepath.Join(a, "old.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	releaseA()
	c, releaseC, err := claimCMSDir(root, tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseC()
	if c != a {
		t.Fatalf("after the first lab closed, the next got %s, want its slot %s", c, a)
	}
	if entries, _ := os.ReadDir(c); len(entries) != 0 {
		t.Fatalf("the reused slot holds %d old files", len(entries))
	}
}

// A slot root that another user could write is not used.
func TestCMSSlotsRefuseAWritableRoot(t *testing.T) {
	root, tmp := filepath.Join(t.TempDir(), "slots"), t.TempDir()
	if err := os.Mkdir(root, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	dir, release, err := claimCMSDir(root, tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if filepath.Dir(dir) != tmp {
		t.Fatalf("used %s under a world-writable root; want the lab's own temporary directory %s", dir, tmp)
	}
}

// The directory check's target label is SFBEX_LDAP_URL and the base DN:
// the lab names its DC, not the loopback port it got this time.
func TestLabDirectoryURLIsStable(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := l.Env(time.Minute)
	if env["SFBEX_LDAP_URL"] != "ldap://dc01.contoso.test" {
		t.Errorf("SFBEX_LDAP_URL=%q, want ldap://dc01.contoso.test", env["SFBEX_LDAP_URL"])
	}
	if !strings.Contains(","+env["SFBEX_CONNECT_TO"]+",", ",dc01.contoso.test:389="+l.DirectoryAddr()+",") {
		t.Errorf("SFBEX_CONNECT_TO=%q does not route dc01.contoso.test:389 to %s", env["SFBEX_CONNECT_TO"], l.DirectoryAddr())
	}
}
