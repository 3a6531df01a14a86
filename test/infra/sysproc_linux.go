package infra

import "syscall"

// sysProcAttr makes the kernel kill a started server if the test process
// dies without running its cleanups (a panic or `go test -timeout`), so no
// server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
