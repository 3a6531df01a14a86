//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package lab

import (
	"errors"
	"os"
	"syscall"
)

var errNoLocks = errors.New("file locks are not available")

// tryLock takes an exclusive lock on f without waiting. flock locks belong
// to the open file, so a second open of the same file in this process
// conflicts too.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return false, nil
	default:
		return false, err
	}
}

func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
