package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The cms check's target label is its snapshot path. A path under the lab's
// random temporary directory changed the series on every start, so the feed
// writes to a fixed per-user folder instead: the first free slot of
// $TMPDIR/sfbex-lab-snapshots-<uid>/cms-snapshots, cms-snapshots-2, ... A slot is
// held by a lock on its .lock file for the lab's lifetime (the kernel drops
// it when the process dies), so labs running at once, in one process or
// several, get different folders, and a restarted lab gets its old one back.

// maxCMSSlots bounds the search; beyond it the lab falls back to a folder
// in its temporary directory.
const maxCMSSlots = 32

// cmsRoot holds the slots of the current user.
func cmsRoot() string {
	return filepath.Join(os.TempDir(), "sfbex-lab-snapshots-"+strconv.Itoa(os.Getuid()))
}

// claimCMSDir returns the first free slot under root and a release
// function. fallback is the lab's temporary directory, used where no slot
// can be held.
func claimCMSDir(root, fallback string) (string, func(), error) {
	if ok, err := ownPrivateDir(root); err != nil || !ok {
		return fallbackCMSDir(fallback)
	}
	for n := 1; n <= maxCMSSlots; n++ {
		name := "cms-snapshots"
		if n > 1 {
			name = fmt.Sprintf("cms-snapshots-%d", n)
		}
		dir := filepath.Join(root, name)
		lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return fallbackCMSDir(fallback)
		}
		held, err := tryLock(lock)
		if err != nil || !held {
			lock.Close()
			if errors.Is(err, errNoLocks) {
				return fallbackCMSDir(fallback)
			}
			continue
		}
		// Snapshots a previous lab left behind would be read as this one's.
		err = os.RemoveAll(dir)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err != nil {
			lock.Close()
			return "", nil, err
		}
		// The lock file stays: removing it would let two labs lock two
		// different files of the same name.
		return dir, func() { os.RemoveAll(dir); lock.Close() }, nil
	}
	return fallbackCMSDir(fallback)
}

func fallbackCMSDir(tmp string) (string, func(), error) {
	dir := filepath.Join(tmp, "cms-snapshots")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	return dir, func() {}, nil
}

// ownPrivateDir creates dir (mode 0700) or accepts it when it is a real
// directory, not a symbolic link, that only its owner, the current user,
// can write: in a shared /tmp another user could have made it first.
func ownPrivateDir(dir string) (bool, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return false, err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return false, err
	}
	return fi.IsDir() && fi.Mode().Perm()&0o022 == 0 && ownedByMe(fi), nil
}
