package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sfbex/sfbex_exporter/internal/winsvc"
)

// Where the Windows service keeps its configuration and log: ProgramData
// is the machine-wide data folder admins back up and services may write.
const (
	defaultServiceConfig = `C:\ProgramData\sfbex_exporter\sfbex_exporter.conf`
	defaultServiceLog    = `C:\ProgramData\sfbex_exporter\sfbex_exporter.log`
)

// runService runs the agent under the Windows service manager: a stop
// request ends it cleanly, and everything it would print goes to the
// Event Log (and the log file, when the command line names one).
func runService(args []string) int {
	env := runEnv{stderr: io.Discard}
	if w, closeLog, err := winsvc.OpenEventLog(); err == nil {
		defer func() { _ = closeLog() }()
		env.eventLog = w
		env.stderr = winsvc.ErrorWriter(w)
	}
	code, err := winsvc.RunService(func(ctx context.Context) int {
		env.ctx = ctx
		return runIn(env, args)
	})
	if err != nil {
		fmt.Fprintf(env.stderr, "sfbex_exporter: cannot run as a service: %v\n", err)
		return 1
	}
	return int(code)
}

// serviceArgs is the service's command line after the program name.
func serviceArgs(configFile, logFile string, extra []string) []string {
	args := []string{"--config.file=" + configFile}
	if logFile != "" {
		args = append(args, "--log.file="+logFile)
	}
	return append(args, extra...)
}

func install(stderr io.Writer, configFile, logFile string, extra []string) int {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: cannot tell where this program is: %v\n", err)
		return 1
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "sfbex_exporter: install: warning: %s\n", msg) }
	if err := winsvc.Install(exe, serviceArgs(configFile, logFile, extra), warn); err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: install: %v\n", err)
		return 1
	}
	fmt.Printf("installed the service %s: %s %v\nwrite its configuration to %s, then: Start-Service %s\n", winsvc.Name, exe, serviceArgs(configFile, logFile, extra), configFile, winsvc.Name)
	return 0
}

func uninstall(stderr io.Writer) int {
	if err := winsvc.Uninstall(); err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: uninstall: %v\n", err)
		return 1
	}
	fmt.Printf("removed the service %s; its configuration and log files are left in place\n", winsvc.Name)
	return 0
}
