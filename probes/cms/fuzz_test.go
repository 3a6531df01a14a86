package cms

import (
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/support"
)

// FuzzParse feeds the parser whatever may land in the snapshot folder or
// arrive by POST. The seed corpus (testdata/fuzz/FuzzParse) holds both
// shells' examples, other encodings and broken shapes. A snapshot either
// fails or has a safe source name, a shell and a timestamp, and judging
// it never panics.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(body)
		if err != nil {
			if s != nil {
				t.Fatal("a snapshot with an error")
			}
			return
		}
		src, err := s.Source()
		if err != nil || !validFileName(src+".json") {
			t.Fatalf("unsafe source %q: %v", src, err)
		}
		if s.Timestamp.IsZero() || (s.Shell != ShellSfB && s.Shell != ShellExchange) {
			t.Fatalf("accepted without timestamp or shell: %+v", s)
		}
		for _, dep := range []Deployment{hybridOnPrem, {Lync: "onprem", Exchange: "online", Cloud: "china"}} {
			if s.SkypeForBusiness != nil {
				_ = mergeChecks(sfbChecks(src, s.SkypeForBusiness, dep, time.Now(), 60, support.MinHybridApp))
			}
			if s.Exchange != nil {
				_ = exchangeChecks(src, s.Exchange, dep, testNow, 60)
			}
		}
		again, err := Parse(body)
		if err != nil || again.Timestamp != s.Timestamp {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}
