//go:build !windows

package winsvc

import "context"

// IsService is false: only Windows has a service manager of this kind.
func IsService() (bool, error) { return false, nil }

// OpenEventLog refuses: there is no Event Log here.
func OpenEventLog() (EventWriter, func() error, error) { return nil, nil, ErrNotWindows }

// RunService refuses: there is no Windows service manager here.
func RunService(func(context.Context) int) (uint32, error) { return 0, ErrNotWindows }

// Install refuses: there is no Windows service manager here.
func Install(string, []string, func(string)) error { return ErrNotWindows }

// Uninstall refuses: there is no Windows service manager here.
func Uninstall() error { return ErrNotWindows }
