package chaos

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

// TestEndlessWebPageMemoryDoesNotGrowWithTheLimit: lyncdiscover, whose
// JSON the agent parses whole, answers 200 with a web page without end
// (a reverse proxy's sign-in page gone wrong), once with the default
// SFBEX_HTTP_MAX_BODY_BYTES and once with the largest allowed. A body that
// does not start like the document is read to the limit (to say it was cut
// off there) without being kept, so the peak RSS (VmHWM) with the largest
// limit stays within 1.5× of the default's.
func TestEndlessWebPageMemoryDoesNotGrowWithTheLimit(t *testing.T) {
	host := "lyncdiscover." + chaosDomain
	port, caFile, sentMax := endlessServer(t, host, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html><body>"+strings.Repeat("<p>Sign in to continue</p>", 1200)))
	dnsAddr, _ := startDNS(t, goodDNS)
	bin := infra.BuildAgent(t)

	peak := func(limit int64) (hwm uint64, sent int64) {
		sentMax.Store(0)
		env := append(dnsEnv("internal="+dnsAddr),
			"SFBEX_DNS_INTERVAL=1m", "SFBEX_DNS_TIMEOUT=5s",
			"SFBEX_LYNCDISCOVER_VIEWS=external",
			fmt.Sprintf("SFBEX_CONNECT_TO=%s:443=127.0.0.1:%d", host, port),
			"SFBEX_CA_FILE="+caFile,
			"SFBEX_HTTP_INTERVAL=5s", "SFBEX_HTTP_TIMEOUT=5s", "SFBEX_HTTP_REQUEST_TIMEOUT=5s",
		)
		if limit != 0 {
			env = append(env, fmt.Sprintf("SFBEX_HTTP_MAX_BODY_BYTES=%d", limit))
		}
		a := infra.StartAgent(t, bin, nil, env)
		defer a.Stop()
		for i := 0; i < 2; i++ {
			r0 := runs(t, a, "lyncdiscover")
			waitFor(t, 30*time.Second, fmt.Sprintf("lyncdiscover run %d with the limit at %d", i+1, limit), func() bool { return runs(t, a, "lyncdiscover") > r0 })
			if _, up := pick(series(t, a), "sfbex_lyncdiscover_up"); up != 0 {
				t.Errorf("limit %d: an endless web page counted as up (sfbex_lyncdiscover_up sums to %v)", limit, up)
			}
		}
		return vmHWM(t, a.PID()), sentMax.Load()
	}

	hwmDefault, sentDefault := peak(0)
	hwmMax, sentMaxLimit := peak(maxBodyLimit)
	judgePeaks(t, "an endless web page at lyncdiscover", "the page", hwmDefault, sentDefault, hwmMax, sentMaxLimit)
}
