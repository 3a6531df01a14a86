package sip

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// chunked hands out r's bytes at most n at a time, as a TLS connection
// may, and counts what was read.
type chunked struct {
	data []byte
	n    int
	read int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	c.read += k
	return k, nil
}

const fuzzCallID = "CALLID@sfbex"

// outcomeOf runs readAnswer and sums up what it said.
func outcomeOf(data []byte, chunk, limit int) (Outcome, *Answer, int) {
	r := &chunked{data: data, n: chunk}
	a, err := readAnswer(r, fuzzCallID, limit)
	if err == nil {
		return Answered, a, r.read
	}
	var re *readError
	if errors.As(err, &re) {
		return re.outcome, nil, r.read
	}
	return "error: " + Outcome(err.Error()), nil, r.read
}

// TestSeedAnswers: the real-shaped Skype for Business answers of the seed
// corpus read as they should, whole or byte by byte.
func TestSeedAnswers(t *testing.T) {
	for _, tc := range []struct {
		file    string
		outcome Outcome
		status  int
		product string
		diag    int
	}{
		{"200-edge-rtc7.txt", Answered, 200, "sfb2019_or_se", 0},
		{"200-front-end-rtc6.txt", Answered, 200, "sfb2015", 0},
		{"403-federation.txt", Answered, 403, "sfb2019_or_se", 1000},
		{"504-previous-hop.txt", Answered, 504, "sfb2019_or_se", 1034},
		{"504-dns.txt", Answered, 504, "lync2013", 1008},
		{"100-then-200.txt", Answered, 200, "sfb2019_or_se", 0},
		{"401-ntlm.txt", Answered, 401, "sfb2019_or_se", 0},
		{"200-no-content-length.txt", Answered, 200, "sfb2019_or_se", 0},
		{"200-with-body.txt", Answered, 200, "sfb2019_or_se", 0},
		{"keepalive-then-200.txt", Answered, 200, "sfb2019_or_se", 0},
		{"200-utf8-reason.txt", Answered, 200, "sfb2019_or_se", 0}, // RFC 3261 allows UTF-8 in the reason phrase
		{"other-call.txt", Malformed, 0, "", 0},
		{"request.txt", Malformed, 0, "", 0},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "answers", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 7, len(data)} {
			o, a, _ := outcomeOf(data, chunk, 65536)
			if o != tc.outcome {
				t.Errorf("%s in chunks of %d: outcome %s, want %s", tc.file, chunk, o, tc.outcome)
				continue
			}
			if a == nil {
				continue
			}
			var code int
			if a.Diagnostics != nil {
				code = a.Diagnostics.Code
			}
			if a.Status != tc.status || a.Product != tc.product || code != tc.diag {
				t.Errorf("%s in chunks of %d: %+v (diagnostics %d)", tc.file, chunk, a, code)
			}
		}
	}
}

// FuzzReadAnswer: whatever a peer sends, readAnswer returns an answer or
// one of the outcomes, reads no more than the cap (and one read beyond),
// bounds what it keeps, and says the same however the bytes are split.
func FuzzReadAnswer(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "answers", "*.txt"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3))
	}
	f.Add([]byte("SIP/2.0 200 OK\r\nCall-ID: CALLID@sfbex\r\nContent-Length: 99999999\r\n\r\n"), uint8(64))
	f.Add([]byte("\x16\x03\x01\x00\xa5\x01\x00"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		const limit = 4096
		n := max(1, int(chunk))
		o, a, read := outcomeOf(data, n, limit)
		if !slices.Contains(Outcomes, o) {
			t.Fatalf("outcome %q", o)
		}
		if read > limit+max(n, 2048) {
			t.Fatalf("read %d bytes with a cap of %d", read, limit)
		}
		if a != nil {
			if a.Status < 100 || a.Status > 699 || len(a.Reason) > 210 || len(a.Server) > 210 {
				t.Fatalf("answer %+v", a)
			}
			if a.Product != "" && Product(a.Server) != a.Product {
				t.Fatalf("product %q for %q", a.Product, a.Server)
			}
			if d := a.Diagnostics; d != nil && (len(d.Reason) > 210 || len(d.Source) > 210) {
				t.Fatalf("diagnostics %+v", d)
			}
		}
		// Byte by byte and whole: the same answer, or none either way.
		// (Which failure a broken message is called may differ: sipgo's
		// stream parser judges a folded header line by what follows it.)
		if len(data) <= limit {
			o1, a1, _ := outcomeOf(data, 1, limit)
			ow, aw, _ := outcomeOf(data, len(data)+1, limit)
			if (a1 == nil) != (aw == nil) || a1 != nil && (a1.Status != aw.Status || a1.Server != aw.Server) {
				t.Fatalf("byte by byte %s %+v, whole %s %+v", o1, a1, ow, aw)
			}
		}
	})
}
