package chaos

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// maxBodyLimit is the largest SFBEX_HTTP_MAX_BODY_BYTES the agent accepts.
const maxBodyLimit = 64 << 20

// TestEndlessEWSBodyMemoryDoesNotGrowWithTheLimit: two EWS URLs that
// answer 200 with a body without end, once with the default
// SFBEX_HTTP_MAX_BODY_BYTES (1 MiB) and once with the largest allowed
// (64 MiB). The agent reads each body up to the limit (to say it was cut
// off there) but keeps only its start, so its peak RSS (VmHWM) with the
// largest limit stays within 1.5× of the default's.
func TestEndlessEWSBodyMemoryDoesNotGrowWithTheLimit(t *testing.T) {
	const host = "ews.chaos.test"
	port, caFile, sentMax := endlessServer(t, host, "text/xml", []byte(strings.Repeat("<a>", 32<<10/3)))
	dnsAddr, _ := startDNS(t, goodDNS)
	bin := infra.BuildAgent(t)

	urls := []string{"https://" + host + "/a/EWS/Exchange.asmx", "https://" + host + "/b/EWS/Exchange.asmx"}
	peak := func(limit int64) (hwm uint64, sent int64) {
		sentMax.Store(0)
		env := append(dnsEnv("internal="+dnsAddr),
			"SFBEX_DNS_INTERVAL=1m", "SFBEX_DNS_TIMEOUT=5s",
			"SFBEX_EWS_URLS="+strings.Join(urls, ","),
			"SFBEX_EWS_EXPECT_OAUTH=false",
			fmt.Sprintf("SFBEX_CONNECT_TO=%s:443=127.0.0.1:%d", host, port),
			"SFBEX_CA_FILE="+caFile,
			// Generous for a busy machine: 64 MiB over loopback takes well
			// under a second.
			"SFBEX_HTTP_INTERVAL=5s",
			"SFBEX_HTTP_TIMEOUT=5s",
			"SFBEX_HTTP_REQUEST_TIMEOUT=5s",
		)
		if limit != 0 {
			env = append(env, fmt.Sprintf("SFBEX_HTTP_MAX_BODY_BYTES=%d", limit))
		}
		a := infra.StartAgent(t, bin, nil, env)
		defer a.Stop()
		// Three runs in which both bodies were read to the limit.
		cut := 0.0
		for i := 0; i < 3; i++ {
			r0 := runs(t, a, "ews")
			waitFor(t, 30*time.Second, fmt.Sprintf("EWS run %d with the limit at %d", i+1, limit), func() bool { return runs(t, a, "ews") > r0 })
			m := series(t, a)
			_, c := pick(m, "sfbex_ews_outcome", `outcome="body_too_large"`)
			_, up := pick(m, "sfbex_ews_up")
			if up != 0 {
				t.Errorf("limit %d: an endless body counted as up (sfbex_ews_up sums to %v)", limit, up)
			}
			cut += c
		}
		if cut == 0 {
			all, _ := pick(series(t, a), "sfbex_ews_outcome")
			t.Fatalf("limit %d: no run read an endless body to the limit: %v", limit, all)
		}
		return vmHWM(t, a.PID()), sentMax.Load()
	}

	hwmDefault, sentDefault := peak(0)
	hwmMax, sentMaxLimit := peak(maxBodyLimit)
	judgePeaks(t, "an endless EWS body", "the body", hwmDefault, sentDefault, hwmMax, sentMaxLimit)
}

// endlessServer serves host over TLS (its CA in caFile) with a 200 of
// contentType whose body repeats chunk without end (1 GiB at most);
// sentMax is the most bytes one request got before the agent stopped
// reading.
func endlessServer(t *testing.T, host, contentType string, chunk []byte) (port int, caFile string, sentMax *atomic.Int64) {
	t.Helper()
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	cert := chaosCert(t, caFile, host)
	sentMax = new(atomic.Int64)
	done := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		var n int64
		defer func() {
			if n > sentMax.Load() {
				sentMax.Store(n)
			}
		}()
		for n < 1<<30 {
			select {
			case <-done:
				return
			default:
			}
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				return
			}
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	t.Cleanup(func() { close(done); srv.CloseClientConnections(); srv.Close() })
	return srv.Listener.Addr().(*net.TCPAddr).Port, caFile, sentMax
}

// judgePeaks holds the peak RSS with the largest body limit to within 1.5×
// of the default limit's, and checks that the largest limit was reached.
func judgePeaks(t *testing.T, what, body string, hwmDefault uint64, sentDefault int64, hwmMax uint64, sentMaxLimit int64) {
	t.Helper()
	t.Logf("peak RSS (VmHWM) with %s: %s at the default limit (1 MiB; the most one request got: %s), %s at the largest (64 MiB; %s): %.2f×",
		what, mib(hwmDefault), mib(uint64(sentDefault)), mib(hwmMax), mib(uint64(sentMaxLimit)), float64(hwmMax)/float64(hwmDefault))
	if sentMaxLimit < maxBodyLimit {
		t.Errorf("with the limit at 64 MiB the agent stopped reading after %s: the test did not reach the limit", mib(uint64(sentMaxLimit)))
	}
	if float64(hwmMax) > 1.5*float64(hwmDefault) {
		t.Errorf("peak RSS %s with SFBEX_HTTP_MAX_BODY_BYTES=%d, more than 1.5× the %s with the default limit: %s is kept, not discarded",
			mib(hwmMax), maxBodyLimit, mib(hwmDefault), body)
	}
}

// vmHWM reads the peak resident set size of pid in bytes.
func vmHWM(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseUint(f[0], 10, 64); err == nil && len(f) == 2 && f[1] == "kB" {
				return n << 10
			}
		}
	}
	t.Fatalf("no VmHWM for pid %d", pid)
	return 0
}
