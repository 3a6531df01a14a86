//go:build windows

package winsvc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// IsService reports whether the service manager started this process.
func IsService() (bool, error) { return svc.IsWindowsService() }

// OpenEventLog opens the Application log under the service's source
// (registered by Install).
func OpenEventLog() (EventWriter, func() error, error) {
	l, err := eventlog.Open(Name)
	if err != nil {
		return nil, nil, err
	}
	return l, l.Close, nil
}

// RunService hands the process to the service manager until serve
// returns; it returns serve's exit code.
func RunService(serve func(ctx context.Context) int) (uint32, error) {
	h := &handler{serve: serve}
	err := svc.Run(Name, h)
	return h.exit, err
}

type handler struct {
	serve func(ctx context.Context) int
	exit  uint32
}

// Execute translates the service manager's protocol to Run's Manager.
func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, s chan<- svc.Status) (bool, uint32) {
	m := &scm{in: r, out: s, reqs: make(chan Request), quit: make(chan struct{})}
	go m.pump()
	h.exit = Run(m, h.serve)
	close(m.quit)
	return h.exit != 0, h.exit // a service-specific code, so `sc.exe query` shows it
}

// scm is the Windows service manager behind the Manager interface.
type scm struct {
	in   <-chan svc.ChangeRequest
	out  chan<- svc.Status
	reqs chan Request
	quit chan struct{}
}

func (m *scm) pump() {
	for {
		select {
		case c := <-m.in:
			var r Request
			switch c.Cmd {
			case svc.Stop:
				r = Stop
			case svc.Shutdown, svc.PreShutdown:
				r = Shutdown
			default:
				r = Interrogate
			}
			select {
			case m.reqs <- r:
			case <-m.quit:
				return
			}
		case <-m.quit:
			return
		}
	}
}

func (m *scm) Requests() <-chan Request { return m.reqs }

func (m *scm) Report(s Status) {
	st := svc.Status{}
	switch s.State {
	case StartPending:
		st.State, st.WaitHint = svc.StartPending, 10000
	case Running:
		st.State, st.Accepts = svc.Running, svc.AcceptStop|svc.AcceptShutdown
	case StopPending:
		st.State, st.WaitHint = svc.StopPending, 10000 // serve shuts down within 5 s
	case Stopped:
		// svc.Run reports stopped itself when Execute returns.
		return
	}
	m.out <- st
}

// Install registers the service (delayed automatic start, restarted on
// failure) to run exe with args, and the Event Log source. warn hears what
// did not work but leaves the service usable.
func Install(exe string, args []string, warn func(string)) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("cannot connect to the service manager (%w): run from an elevated PowerShell (Run as administrator)", err)
	}
	defer func() { _ = m.Disconnect() }()
	if s, err := m.OpenService(Name); err == nil {
		_ = s.Close()
		return fmt.Errorf("the service %s already exists: run `sfbex_exporter uninstall` first to change its command line", Name)
	}
	s, err := m.CreateService(Name, exe, mgr.Config{
		DisplayName: "sfbex_exporter",
		Description: "Monitors the Skype for Business / Lync Server and Exchange integration for Prometheus.",
		StartType:   mgr.StartAutomatic,
	}, args...)
	if err != nil {
		return fmt.Errorf("cannot create the service %s: %w", Name, err)
	}
	defer s.Close()
	// Delayed start (after the network and the DNS client are up) is set
	// apart: CreateService deletes the service when it fails, and a service
	// that starts early still works (its first checks may fail once).
	cfg, err := s.Config()
	if err == nil {
		cfg.DelayedAutoStart = true
		err = s.UpdateConfig(cfg)
	}
	if err != nil {
		warn(fmt.Sprintf("the service starts automatically, but not delayed (%v): sc.exe config %s start= delayed-auto", err, Name))
	}
	// Restart after 10 s, 30 s, then every minute; forget failures after a day.
	if err := s.SetRecoveryActions([]mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 10 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
		{Type: mgr.ServiceRestart, Delay: time.Minute},
	}, 86400); err != nil {
		return fmt.Errorf("the service is installed but its restart policy is not (%w): set it with sc.exe failure %s reset= 86400 actions= restart/10000/restart/30000/restart/60000", err, Name)
	}
	// A clean exit with a non-zero code (bad configuration) counts as a failure too.
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		warn(fmt.Sprintf("the service is restarted after a crash, but not after it stops with an error, e.g. when its port is taken (%v): sc.exe failureflag %s 1", err, Name))
	}
	// Register the source afresh: x/sys refuses an existing one (left by an
	// earlier install, or New-EventLog) with an error that has no type to test.
	_ = eventlog.Remove(Name)
	if err := eventlog.InstallAsEventCreate(Name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		return fmt.Errorf("the service is installed but its Event Log source is not (%w): New-EventLog -LogName Application -Source %s", err, Name)
	}
	return nil
}

// Uninstall stops and removes the service and its Event Log source.
func Uninstall() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("cannot connect to the service manager (%w): run from an elevated PowerShell (Run as administrator)", err)
	}
	defer func() { _ = m.Disconnect() }()
	s, err := m.OpenService(Name)
	if err != nil {
		return fmt.Errorf("no service %s to remove (%w)", Name, err)
	}
	defer s.Close()
	if st, err := s.Control(svc.Stop); err == nil {
		for deadline := time.Now().Add(20 * time.Second); st.State != svc.Stopped && time.Now().Before(deadline); {
			time.Sleep(250 * time.Millisecond) // the service manager has no wait call
			if st, err = s.Query(); err != nil {
				break
			}
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("cannot remove the service %s: %w", Name, err)
	}
	// No source to remove (an install that stopped early) is fine.
	if err := eventlog.Remove(Name); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return fmt.Errorf("the service is removed but its Event Log source is not (%w): Remove-EventLog -Source %s", err, Name)
	}
	return nil
}
