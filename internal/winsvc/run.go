// Package winsvc runs the agent as a Windows service: the service
// manager's requests and the status it is told (Run, behind the Manager
// interface so that the logic is tested on any system), the Event Log as a
// log destination (EventCore), and install/uninstall (Windows only).
package winsvc

import (
	"context"
	"errors"
)

// Name is the service's name, as sc.exe and Get-Service know it; it is
// also the Event Log source.
const Name = "sfbex_exporter"

// ErrNotWindows is what the Windows-only commands say elsewhere.
var ErrNotWindows = errors.New("the Windows service commands work on Windows only; on Linux run the agent under systemd (see the README)")

// Request is a control request from the service manager.
type Request int

const (
	Interrogate Request = iota // report the current state again
	Stop                       // sc.exe stop, Stop-Service
	Shutdown                   // the machine is shutting down
)

// State is a service state the service manager is told.
type State int

const (
	StartPending State = iota + 1
	Running
	StopPending
	Stopped
)

func (s State) String() string {
	switch s {
	case StartPending:
		return "start pending"
	case Running:
		return "running"
	case StopPending:
		return "stop pending"
	case Stopped:
		return "stopped"
	}
	return "unknown"
}

// Status is what the service reports; ExitCode matters when Stopped.
type Status struct {
	State    State
	ExitCode uint32
}

// Manager is the service manager as the service sees it.
type Manager interface {
	// Requests delivers the manager's control requests.
	Requests() <-chan Request
	// Report tells the manager the service's status.
	Report(Status)
}

// Run runs serve as a service under m: it reports start pending, then
// running; a Stop or Shutdown request cancels serve's context and reports
// stop pending; when serve returns, for whatever reason, it reports
// stopped with serve's exit code and returns it. A serve that ends by
// itself (the port is taken, the configuration is bad) thus stops the
// service with a non-zero code, so the manager's recovery actions apply.
func Run(m Manager, serve func(ctx context.Context) int) uint32 {
	m.Report(Status{State: StartPending})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- serve(ctx) }()
	state := Running
	m.Report(Status{State: state})
	for {
		select {
		case code := <-done:
			exit := uint32(max(code, 0))
			m.Report(Status{State: Stopped, ExitCode: exit})
			return exit
		case r := <-m.Requests():
			switch r {
			case Stop, Shutdown:
				if state != StopPending {
					state = StopPending
					m.Report(Status{State: state})
					cancel()
				}
			default:
				m.Report(Status{State: state})
			}
		}
	}
}
