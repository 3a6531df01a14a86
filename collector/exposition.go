package collector

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/sfbex/sfbex_exporter/probes"
)

// The store keeps what a result renders as exposition text, encoded once
// when the result arrives and compressed: a check's series of one metric
// family are one chunk of raw DEFLATE blocks, compressed by a fresh
// compressor and ended with a sync flush, so that chunks can be sent one
// after the other as one DEFLATE stream (none refers back to another's
// bytes). A gzip scrape (what Prometheus asks for) writes a gzip header,
// each family's HELP and TYPE chunk and then its chunks, an empty final
// block and a trailer whose CRC is combined from the chunks' CRCs: it
// copies bytes and compresses nothing. A plain-text scrape inflates the
// chunks as it writes them. A series costs ~20 bytes compressed instead of
// the ~0.6 KB of a client_golang const metric (docs/performance.md, issue 17).

// zchunk is text kept compressed: raw DEFLATE blocks ending in a sync
// flush, with the CRC-32 and length of the text.
type zchunk struct {
	z   []byte
	crc uint32
	n   uint32
}

// zwriter is a compressor and its output buffer, reused.
type zwriter struct {
	w   *flate.Writer
	buf bytes.Buffer
}

// freeList keeps a few reusable values across garbage collections. A
// sync.Pool is emptied by every collection: with the soft memory limit
// the collector runs often, and each compressor made again cost ~1 MB of
// allocation, which made it run more often still (issue 17).
type freeList[T any] struct {
	free  chan T
	fresh func() T
}

func newFreeList[T any](n int, fresh func() T) *freeList[T] {
	return &freeList[T]{free: make(chan T, n), fresh: fresh}
}

func (l *freeList[T]) get() T {
	select {
	case v := <-l.free:
		return v
	default:
		return l.fresh()
	}
}

func (l *freeList[T]) put(v T) {
	select {
	case l.free <- v:
	default:
	}
}

var flateWriters = newFreeList(4, func() *zwriter {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return &zwriter{w: w}
})

// storedMax is the longest text kept as a stored (uncompressed) DEFLATE
// block: a check's one-line families (sfbex_probe_success, …) would not
// shrink, and a compressor's reset costs more than the line.
const storedMax = 256

// compress returns text as an independent, sync-flushed DEFLATE chunk.
func compress(text []byte) zchunk {
	crc := crc32.ChecksumIEEE(text)
	if len(text) <= storedMax {
		// A stored block, byte-aligned as every chunk ends: BFINAL 0,
		// BTYPE 00, LEN and its complement (little-endian), the bytes.
		out := make([]byte, 0, 5+len(text))
		n := uint16(len(text))
		out = append(out, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		return zchunk{z: append(out, text...), crc: crc, n: uint32(len(text))}
	}
	z := flateWriters.get()
	z.buf.Reset()
	z.w.Reset(&z.buf)
	_, _ = z.w.Write(text) // a bytes.Buffer does not fail
	_ = z.w.Flush()
	out := bytes.Clone(z.buf.Bytes()) // exactly sized: the store keeps it
	flateWriters.put(z)
	return zchunk{z: out, crc: crc, n: uint32(len(text))}
}

// family is one metric family as the store serves it.
type family struct {
	name  string
	head  []byte // "# HELP …\n# TYPE …\n"
	zhead zchunk
	typ   prometheus.ValueType
}

// chunk is one check's series of one family. Never changed once made, so
// a scrape may write it after releasing the store's lock.
type chunk struct {
	fam *family
	zchunk
	// sum is a hash of the text: a new rendering whose text for this
	// family is the same reuses the chunk instead of compressing it again
	// (most of a check's families do not change from run to run).
	sum uint64
}

// textSeed keys the hashes of chunk texts (kept in memory only).
var textSeed = maphash.MakeSeed()

// encoded is one entry's rendering.
type encoded struct {
	chunks []chunk
	// digest sums up the seriesKey of each series: a new rendering with
	// the same set of series (the usual case: only values change) leaves
	// the duplicate accounting alone. The keys themselves are not kept
	// (8 bytes a series); when the set changes, the old ones are read
	// back from the chunks (keysOf).
	digest keyDigest
	err    error // the entry rendered something it must not (see encode)
}

// keyDigest identifies a set of series keys.
type keyDigest struct {
	sum, xor uint64
	n        int
}

func digestOf(keys []uint64) keyDigest {
	d := keyDigest{n: len(keys)}
	for _, k := range keys {
		d.sum += k
		d.xor ^= k * 0x9e3779b97f4a7c15
	}
	return d
}

// keysOf appends the seriesKey of every series of an encoding, read back
// from its chunks.
func keysOf(enc *encoded, keys []uint64) ([]uint64, error) {
	r := flateReaders.get()
	defer flateReaders.put(r)
	var zr bytes.Reader
	var text []byte
	for i := range enc.chunks {
		c := &enc.chunks[i]
		zr.Reset(c.z)
		if err := r.(flate.Resetter).Reset(&zr, nil); err != nil {
			return keys, err
		}
		text = slices.Grow(text[:0], int(c.n))[:c.n]
		if _, err := io.ReadFull(r, text); err != nil {
			return keys, err
		}
		keys = appendKeys(keys, text)
	}
	return keys, nil
}

// appendKeys appends the seriesKey of each line of text.
func appendKeys(keys []uint64, text []byte) []uint64 {
	for l := text; len(l) > 0; {
		i := bytes.IndexByte(l, '\n')
		keys = append(keys, seriesKey(l[:i]))
		l = l[i+1:]
	}
	return keys
}

// seriesKey hashes a series line up to its value: name and labels.
func seriesKey(line []byte) uint64 {
	if i := bytes.LastIndexByte(line, ' '); i > 0 {
		line = line[:i]
	}
	h := uint64(14695981039346656037) // FNV-1a, without an allocation
	for _, c := range line {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
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
// The series' keys are appended to keys (scratch the caller reuses).
// Chunks of old (the entry's previous rendering) whose text is unchanged
// are reused. Series of known Descs are written without a registry
// (text.go); the others go through one, which teaches descs theirs.
func encode(ms []prometheus.Metric, fams map[string]*family, descs map[*prometheus.Desc]*descInfo, old *encoded, keys []uint64) (encoded, []uint64) {
	var sc scratch
	return sc.encode(ms, fams, descs, old, keys)
}

// scratch is what encode reuses from one call to the next (the store's).
type scratch struct {
	buf     bytes.Buffer
	samples []sample
}

func (sc *scratch) encode(ms []prometheus.Metric, fams map[string]*family, descs map[*prometheus.Desc]*descInfo, old *encoded, keys []uint64) (encoded, []uint64) {
	if len(ms) == 0 {
		return encoded{}, keys
	}
	var out encoded
	buf := &sc.buf
	var prev []chunk // old's chunks not yet passed, by family name
	if old != nil {
		prev = old.chunks
	}
	add := func(f *family, lines []byte) {
		first := len(keys)
		keys = appendKeys(keys, lines)
		out.digest = addDigest(out.digest, keys[first:])
		sum := maphash.Bytes(textSeed, lines)
		for len(prev) > 0 && prev[0].fam.name < f.name {
			prev = prev[1:]
		}
		if len(prev) > 0 && prev[0].fam == f && prev[0].sum == sum && int(prev[0].n) == len(lines) {
			out.chunks = append(out.chunks, prev[0])
			return
		}
		out.chunks = append(out.chunks, chunk{fam: f, zchunk: compress(lines), sum: sum})
	}

	groups, ok := fastGroups(ms, descs, sc.samples[:0])
	if len(groups) > 0 {
		sc.samples = groups[0][:cap(groups[0])] // keep the grown array
	}
	defer clear(sc.samples) // nor keep the samples alive
	if ok {
		out.chunks = make([]chunk, 0, len(groups)) // kept: exactly sized
		for _, g := range groups {
			buf.Reset()
			writeSamples(buf, g)
			add(g[0].info.fam, buf.Bytes())
		}
		out.chunks = slices.Clip(out.chunks)
		return out, keys
	}

	reg := prometheus.NewRegistry()
	if err := reg.Register(metricsOf(ms)); err != nil {
		return encoded{err: err}, keys
	}
	mfs, err := reg.Gather()
	if err != nil {
		return encoded{err: err}, keys
	}
	for _, mf := range mfs {
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(buf, mf); err != nil {
			return encoded{err: err}, keys
		}
		text := buf.Bytes()
		// The first two lines are HELP and TYPE.
		cut := bytes.IndexByte(text, '\n') + 1
		cut += bytes.IndexByte(text[cut:], '\n') + 1
		head, lines := text[:cut], text[cut:]
		f, ok := fams[mf.GetName()]
		if !ok {
			f = &family{name: mf.GetName(), head: slices.Clone(head), zhead: compress(head), typ: valueType(mf.GetType())}
			fams[f.name] = f
		} else if !bytes.Equal(f.head, head) {
			return encoded{err: fmt.Errorf("metric family %s: help or type differs from another check's: %q against %q", f.name, head, f.head)}, keys
		}
		add(f, lines)
	}
	out.chunks = slices.Clip(out.chunks)
	for _, m := range ms {
		if _, known := descs[m.Desc()]; !known {
			if _, isSample := m.(*probes.Sample); isSample {
				if info, ok := learnDesc(m.Desc(), fams); ok {
					descs[m.Desc()] = info
				}
			}
		}
	}
	return out, keys
}

func addDigest(d keyDigest, keys []uint64) keyDigest {
	e := digestOf(keys)
	return keyDigest{sum: d.sum + e.sum, xor: d.xor ^ e.xor, n: d.n + e.n}
}

// snapshot lists the chunks to send, family by family (sorted by name),
// each family's HELP and TYPE first. It holds the store's read lock only
// while listing: a slow client never blocks the probes' results.
func (s *Store) snapshot() ([]*zchunk, error) {
	s.mu.RLock()
	if err := s.exportError(); err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	// Two passes, so that every family's list is allocated once at its
	// size (appending grew 30 lists of 10,000 at every scrape).
	count := make(map[*family]int, len(s.families))
	n := 0
	for _, id := range s.order {
		for _, c := range s.entries[id].enc.chunks {
			count[c.fam]++
			n++
		}
	}
	fams := make([]*family, 0, len(count))
	for f := range count {
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	out := make([]*zchunk, n+len(fams))
	next := make(map[*family]int, len(fams))
	at := 0
	for _, f := range fams {
		out[at] = &f.zhead
		next[f] = at + 1
		at += 1 + count[f]
	}
	for _, id := range s.order {
		enc := &s.entries[id].enc
		for i := range enc.chunks {
			c := &enc.chunks[i]
			out[next[c.fam]] = &c.zchunk
			next[c.fam]++
		}
	}
	s.mu.RUnlock()
	return out, nil
}

var flateReaders = newFreeList(4, func() io.ReadCloser { return flate.NewReader(bytes.NewReader(nil)) })

// WriteExposition writes every entry's series in the text format, each
// family's HELP and TYPE once before its series.
func (s *Store) WriteExposition(w io.Writer) error {
	chunks, err := s.snapshot()
	if err != nil {
		return err
	}
	return inflateTo(w, chunks)
}

// gzipHeader starts a gzip member: DEFLATE, no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// writeGzip writes head (text, compressed here: the few runtime and build
// families) and then the store's chunks as one gzip stream.
func writeGzip(w io.Writer, head []byte, chunks []*zchunk) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(gzipHeader)
	var crc uint32
	var size uint64
	add := func(c *zchunk) {
		_, _ = bw.Write(c.z)
		crc = crcCombine(crc, c.crc, uint64(c.n))
		size += uint64(c.n)
	}
	if len(head) > 0 {
		h := compress(head)
		add(&h)
	}
	for _, c := range chunks {
		add(c)
	}
	// An empty final block (fixed Huffman, just the end code), then CRC-32
	// and size mod 2^32, little-endian.
	_, _ = bw.Write([]byte{0x03, 0x00})
	_, _ = bw.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, crc), uint32(size)))
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

// Handler serves /metrics: what other gathers (the Go runtime, the
// process, the build) and then the store's series, as text; gzipped, when
// the client accepts it, from the chunks compressed when each result
// arrived. A store or gatherer that cannot produce valid exposition
// answers 500, as promhttp does.
func Handler(s *Store, other prometheus.Gatherer) http.Handler {
	contentType := string(expfmt.NewFormat(expfmt.TypeTextPlain))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var head bytes.Buffer
		var err error
		if other != nil {
			var mfs []*dto.MetricFamily
			if mfs, err = other.Gather(); err == nil {
				for _, mf := range mfs {
					if _, err = expfmt.MetricFamilyToText(&head, mf); err != nil {
						break
					}
				}
			}
		}
		var chunks []*zchunk
		if err == nil {
			chunks, err = s.snapshot()
		}
		if err != nil {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Add("Vary", "Accept-Encoding")
		if gzipAccepted(r) {
			h.Set("Content-Encoding", "gzip")
			_ = writeGzip(w, head.Bytes(), chunks)
			return
		}
		if _, err := w.Write(head.Bytes()); err != nil {
			return
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := inflateTo(bw, chunks); err == nil {
			_ = bw.Flush()
		}
	})
}

// inflateTo writes the chunks' text.
func inflateTo(w io.Writer, chunks []*zchunk) error {
	r := flateReaders.get()
	defer flateReaders.put(r)
	var zr bytes.Reader
	var buf [32 << 10]byte
	for _, c := range chunks {
		zr.Reset(c.z)
		if err := r.(flate.Resetter).Reset(&zr, nil); err != nil {
			return err
		}
		// Read exactly the chunk's text: a chunk has no final block, so
		// reading on would be an unexpected EOF. (io.CopyN would hand the
		// reader to the writer's ReadFrom, which may read past the limit's
		// wrapper.)
		for left := int(c.n); left > 0; {
			k, err := io.ReadFull(r, buf[:min(left, len(buf))])
			if _, werr := w.Write(buf[:k]); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			left -= k
		}
	}
	return nil
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
