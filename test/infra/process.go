package infra

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is one started server: the *exec.Cmd, its exit, and the file its
// stdout and stderr go to.
type process struct {
	label   string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // valid after done is closed
	stopMu  sync.Mutex
}

// startProcess starts path with args, stdout and stderr appended to
// logPath. It does not wait for readiness.
func startProcess(label, logPath, dir string, env []string, path string, args ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child holds its own copy of the descriptor
	fmt.Fprintf(f, "### %s: %s %s\n", time.Now().Format(time.RFC3339Nano), path, strings.Join(args, " "))

	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &process{label: label, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID of the process.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process's PID, waits up to grace for it to
// exit, then sends SIGKILL and waits. It reports whether the process had to
// be killed. Safe to call more than once and after the process exited.
func (p *process) stop(grace time.Duration) (killed bool) {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if p.exited() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return false
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return true
}

// signal sends sig to the process's PID.
func (p *process) signal(sig os.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s (pid %d) has exited: %v", p.label, p.pid(), p.waitErr)
	}
	return p.cmd.Process.Signal(sig)
}

// readLog returns the captured output, at most the last max bytes.
func readLog(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) > max {
		return fmt.Sprintf("(first %d bytes cut)\n%s", len(b)-max, b[len(b)-max:])
	}
	return string(b)
}

// fileSize is the size of the file at path, 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readLogFrom returns the file's content from offset on.
func readLogFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return string(b[offset:])
}

// logOnFailure registers a cleanup that logs the file at path if the test
// failed. Register it before the cleanup that stops the process, so it runs
// after it and sees the complete output.
func logOnFailure(t testing.TB, label, path string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of %s (%s):\n%s", label, path, readLog(path, 64<<10))
		}
	})
}

// filterEnv returns env without variables whose name starts with one of
// the prefixes.
func filterEnv(env []string, prefixes ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
