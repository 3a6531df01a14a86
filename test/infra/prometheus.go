package infra

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Prometheus is a real Prometheus server (Debian's prometheus package)
// started by StartPrometheus, on 127.0.0.1 with its data in a temp dir.
type Prometheus struct {
	URL     string
	Dir     string
	LogPath string
	proc    *process
}

// StartPrometheus writes config (a prometheus.yml) and the rule files
// (name -> content) into a t.TempDir(), runs `promtool check config`, starts
// the server on a free loopback port and waits until it is ready. A
// t.Cleanup stops it by PID. Scrape targets are applied only every ~5 s
// after start: poll the API for data, never sleep a fixed time.
func StartPrometheus(t testing.TB, config string, rules map[string]string) *Prometheus {
	t.Helper()
	Require(t, "prometheus", "promtool")
	p := &Prometheus{Dir: t.TempDir()}
	p.LogPath = filepath.Join(p.Dir, "prometheus.log")
	writeFile(t, filepath.Join(p.Dir, "prometheus.yml"), config)
	for name, content := range rules {
		writeFile(t, filepath.Join(p.Dir, name), content)
	}
	promtool, _ := LookPath("promtool")
	if out, err := execOutput(p.Dir, promtool, "check", "config", "prometheus.yml"); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	logOnFailure(t, "prometheus", p.LogPath)
	bin, _ := LookPath("prometheus")
	t.Cleanup(func() {
		if p.proc != nil {
			p.proc.stop(10 * time.Second)
		}
	})
	err := StartOnFreePorts(t, "prometheus", 3, func() (string, error) {
		port := FreePort(t)
		p.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		logStart := fileSize(p.LogPath)
		proc, err := startProcess("prometheus", p.LogPath, p.Dir, os.Environ(), bin,
			"--config.file=prometheus.yml",
			"--storage.tsdb.path="+filepath.Join(p.Dir, "data"),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		)
		if err != nil {
			return "", err
		}
		p.proc = proc
		// Bounded per request: whatever holds the port may accept and say nothing.
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := c.Get(p.URL + "/-/ready")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return "", nil
				}
			}
			if proc.exited() || time.Now().After(deadline) {
				exited := proc.exited()
				proc.stop(10 * time.Second)
				return readLogFrom(p.LogPath, logStart), fmt.Errorf("prometheus not ready (exited %v)", exited)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// API GETs /api/v1/<path> with query parameters and decodes the "data"
// field into out.
func (p *Prometheus) API(t testing.TB, path string, params url.Values, out any) {
	t.Helper()
	resp, err := http.Get(p.URL + "/api/v1/" + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("prometheus %s: %v: %s", path, err, body)
	}
	if env.Status != "success" {
		t.Fatalf("prometheus %s %v: %s", path, params, env.Error)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		t.Fatalf("prometheus %s data: %v", path, err)
	}
}

// Alert is one entry of /api/v1/alerts.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// Alerts returns the pending and firing alerts.
func (p *Prometheus) Alerts(t testing.TB) []Alert {
	t.Helper()
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	p.API(t, "alerts", nil, &data)
	return data.Alerts
}

// execOutput runs a command in dir and returns its combined output.
func execOutput(dir, path string, args ...string) (string, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
