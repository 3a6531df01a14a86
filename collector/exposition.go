package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The store keeps what a result renders as exposition text, encoded once
// when the result arrives: a check's series of one metric family are one
// byte slice (their lines, without the family's HELP and TYPE), and a
// scrape writes the families' headers once and then those slices. That is
// about a sixth of the memory the client_golang const metrics took (each
// a Desc reference, label pairs and a value behind pointers, ~0.6 KB per
// series against the ~110 bytes of its line) and no per-scrape work but
// copying (docs/performance.md, issue 17).

// family is one metric family as the store serves it.
type family struct {
	name string
	head []byte // "# HELP …\n# TYPE …\n"
}

// chunk is one check's series of one family, encoded. Never changed once
// made, so a scrape may write it after releasing the store's lock.
type chunk struct {
	fam  *family
	text []byte
}

// encoded is one entry's rendering.
type encoded struct {
	chunks []chunk
	keys   []uint64 // hash of each series' name and labels
	err    error    // the entry rendered something it must not (see encode)
}

// seriesKey hashes a series line up to its value: name and labels.
func seriesKey(line []byte) uint64 {
	if i := bytes.LastIndexByte(line, ' '); i > 0 {
		line = line[:i]
	}
	h := fnv.New64a()
	_, _ = h.Write(line)
	return h.Sum64()
}

// metricsOf is an unchecked collector of fixed metrics: a registry
// gathers them into families, sorted, checked for duplicate series and
// inconsistent labels exactly as it would at a scrape.
type metricsOf []prometheus.Metric

func (metricsOf) Describe(chan<- *prometheus.Desc) {}
func (m metricsOf) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}

// encode turns one entry's metrics into exposition text per family,
// registering new families in fams. A duplicate series within the entry,
// or a family whose help or type differs from another check's, is an
// error that makes scrapes fail until the entry renders cleanly: the same
// protection the registry gave at every scrape, paid once per result.
func encode(ms []prometheus.Metric, fams map[string]*family) encoded {
	if len(ms) == 0 {
		return encoded{}
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(metricsOf(ms)); err != nil {
		return encoded{err: err}
	}
	mfs, err := reg.Gather()
	if err != nil {
		return encoded{err: err}
	}
	var out encoded
	var buf bytes.Buffer
	for _, mf := range mfs {
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return encoded{err: err}
		}
		text := buf.Bytes()
		// The first two lines are HELP and TYPE.
		cut := bytes.IndexByte(text, '\n') + 1
		cut += bytes.IndexByte(text[cut:], '\n') + 1
		head, lines := text[:cut], text[cut:]
		f, ok := fams[mf.GetName()]
		if !ok {
			f = &family{name: mf.GetName(), head: slices.Clone(head)}
			fams[f.name] = f
		} else if !bytes.Equal(f.head, head) {
			return encoded{err: fmt.Errorf("metric family %s: help or type differs from another check's: %q against %q", f.name, head, f.head)}
		}
		for l := lines; len(l) > 0; {
			i := bytes.IndexByte(l, '\n')
			out.keys = append(out.keys, seriesKey(l[:i]))
			l = l[i+1:]
		}
		out.chunks = append(out.chunks, chunk{fam: f, text: slices.Clip(slices.Clone(lines))})
	}
	out.chunks = slices.Clip(out.chunks)
	out.keys = slices.Clip(out.keys)
	return out
}

// WriteExposition writes every entry's series in the text format, each
// family's HELP and TYPE once before its series. It holds the store's
// read lock only to list the encoded chunks: a slow client never blocks
// the probes' results.
func (s *Store) WriteExposition(w io.Writer) error {
	s.mu.RLock()
	if err := s.exportError(); err != nil {
		s.mu.RUnlock()
		return err
	}
	byFam := make(map[*family][][]byte, len(s.families))
	for _, id := range s.order {
		for _, c := range s.entries[id].enc.chunks {
			byFam[c.fam] = append(byFam[c.fam], c.text)
		}
	}
	s.mu.RUnlock()

	fams := make([]*family, 0, len(byFam))
	for f := range byFam {
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, f := range fams {
		if _, err := bw.Write(f.head); err != nil {
			return err
		}
		for _, t := range byFam[f] {
			if _, err := bw.Write(t); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// exportError says why the store cannot serve valid exposition; nil when
// it can. The caller holds s.mu.
func (s *Store) exportError() error {
	if s.badEntries > 0 {
		for _, id := range s.order {
			if err := s.entries[id].enc.err; err != nil {
				return fmt.Errorf("check %s rendered invalid metrics (a bug, please report it): %w", id, err)
			}
		}
	}
	if s.duplicates > 0 {
		return fmt.Errorf("%d series are rendered by two checks (a bug, please report it), e.g. by check %s", s.duplicates, s.lastDuplicate)
	}
	return nil
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// Handler serves /metrics: what other gathers (the Go runtime, the
// process, the build) and then the store's series, as text, gzipped when
// the client accepts it. A store or gatherer that cannot produce valid
// exposition answers 500, as promhttp does.
func Handler(s *Store, other prometheus.Gatherer) http.Handler {
	contentType := string(expfmt.NewFormat(expfmt.TypeTextPlain))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var mfs []*dto.MetricFamily
		var err error
		if other != nil {
			mfs, err = other.Gather()
		}
		if err == nil {
			s.mu.RLock()
			err = s.exportError()
			s.mu.RUnlock()
		}
		if err != nil {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		var out io.Writer = w
		if gzipAccepted(r) {
			h.Set("Content-Encoding", "gzip")
			h.Add("Vary", "Accept-Encoding")
			gz := gzipPool.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				_ = gz.Close()
				gzipPool.Put(gz)
			}()
			out = gz
		}
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(out, mf); err != nil {
				return // the client went away
			}
		}
		_ = s.WriteExposition(out)
	})
}

func gzipAccepted(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
