//go:build !linux

package infra

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
