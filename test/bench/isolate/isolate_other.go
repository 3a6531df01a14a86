//go:build !linux

package isolate

import "errors"

func rerun() (int, error) { return 0, errors.New("network namespaces are Linux only") }

func loopbackUp() error { return errors.New("network namespaces are Linux only") }
