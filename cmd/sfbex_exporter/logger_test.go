package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withStderr points os.Stderr at f while the logger is built and used.
func withStderr(t *testing.T, f *os.File) {
	t.Helper()
	saved := os.Stderr
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = saved })
}

// --log.format=console writes no colour codes into a file or a pipe
// (systemd's StandardError=file:, docker logs, `2>agent.log`, `| less`).
func TestConsoleLogsHaveNoColourCodesInFilesAndPipes(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		withStderr(t, f)
		log, _, err := newLogger("console", "info", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("check failing")
		_ = log.Sync()
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		checkPlain(t, string(b))
	})
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		withStderr(t, w)
		log, _, err := newLogger("console", "info", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("check failing")
		_ = log.Sync()
		w.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		checkPlain(t, string(b))
	})
}

func checkPlain(t *testing.T, out string) {
	t.Helper()
	if !strings.Contains(out, "WARN") || !strings.Contains(out, "check failing") {
		t.Fatalf("no console log line in %q", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes in a non-terminal log: %q", out)
	}
}
