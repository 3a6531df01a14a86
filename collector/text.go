package collector

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Writing a result's series as text without a registry (issue 17): a
// registry's Gather, the dto objects and the const metrics were most of
// what a result's rendering allocated, ~250 KB a DNS result. A check's
// first rendering goes through a registry (encode), which checks it and
// teaches the store each Desc's family and label order; later renderings
// of probes.Sample series whose Descs are known are written here, in the
// registry's order and format (TestTextMatchesTheRegistry). Anything else
// (an unknown Desc, a label count or value the registry would refuse, a
// duplicate series) goes through the registry again, which says what is
// wrong.

// descInfo is what the store learned about a Desc from a registry.
type descInfo struct {
	fam *family
	// labels are the series' label names in the registry's order (sorted),
	// each with the index of its variable label, or -1 for a constant one
	// (its value in constVal).
	labels   []string
	varIndex []int
	constVal []string
	nvar     int
}

// labelMarker makes the values of a probe sample that tell which label is
// which (valid UTF-8, so that a const metric accepts them).
const labelMarker = "\x00sfbex-label-"

// learnDesc finds out, through a throw-away const metric, the order in
// which a registry writes d's labels. ok is false for a Desc that no const
// metric can be made of (its own error).
func learnDesc(d *prometheus.Desc, fams map[string]*family) (*descInfo, bool) {
	for n := 0; n <= 64; n++ {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = labelMarker + strconv.Itoa(i)
		}
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, 0, vals...)
		if err != nil {
			continue
		}
		reg := prometheus.NewRegistry()
		if reg.Register(metricsOf{m}) != nil {
			return nil, false
		}
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 1 || len(mfs[0].Metric) != 1 {
			return nil, false
		}
		fam := fams[mfs[0].GetName()]
		if fam == nil || !legacyName(fam.name, true) {
			return nil, false
		}
		pb := mfs[0].Metric[0]
		info := &descInfo{fam: fam, nvar: n}
		for _, lp := range pb.Label {
			if !legacyName(lp.GetName(), false) {
				return nil, false
			}
			idx := -1
			if v, ok := strings.CutPrefix(lp.GetValue(), labelMarker); ok {
				if i, err := strconv.Atoi(v); err == nil {
					idx = i
				}
			}
			info.labels = append(info.labels, lp.GetName())
			info.varIndex = append(info.varIndex, idx)
			info.constVal = append(info.constVal, lp.GetValue())
		}
		return info, true
	}
	return nil, false
}

// legacyName reports whether s is a metric name (colons allowed) or a
// label name that text writes without quotes.
func legacyName(s string, metric bool) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' || metric && c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// sample is one series on its way to text.
type sample struct {
	info *descInfo
	s    *probes.Sample
}

func (x sample) label(i int) string {
	if j := x.info.varIndex[i]; j >= 0 {
		return x.s.Labels()[j]
	}
	return x.info.constVal[i]
}

// fastGroups sorts ms into families as a registry would and checks what a
// registry checks. ok is false when the registry must do it instead.
// The samples are kept in all's array (scratch), groups[0] starts it.
func fastGroups(ms []prometheus.Metric, descs map[*prometheus.Desc]*descInfo, all []sample) (groups [][]sample, ok bool) {
	for _, m := range ms {
		ps, isSample := m.(*probes.Sample)
		if !isSample {
			return nil, false
		}
		info := descs[ps.Desc()]
		if info == nil || len(ps.Labels()) != info.nvar || ps.Type() != info.fam.typ {
			return nil, false
		}
		for _, v := range ps.Labels() {
			if !utf8.ValidString(v) {
				return nil, false
			}
		}
		all = append(all, sample{info, ps})
	}
	slices.SortStableFunc(all, func(a, b sample) int {
		if c := strings.Compare(a.info.fam.name, b.info.fam.name); c != 0 {
			return c
		}
		if len(a.info.labels) != len(b.info.labels) {
			return len(a.info.labels) - len(b.info.labels)
		}
		for i := range a.info.labels {
			if c := strings.Compare(a.label(i), b.label(i)); c != 0 {
				return c
			}
		}
		return 0
	})
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].info.fam == all[i].info.fam {
			// One family, one label set: a family whose series have
			// different label names is the registry's to judge.
			if !slices.Equal(all[j].info.labels, all[i].info.labels) {
				return nil, false
			}
			same := true
			for k := range all[i].info.labels {
				if all[j].label(k) != all[j-1].label(k) {
					same = false
					break
				}
			}
			if same {
				return nil, false // a duplicate series
			}
			j++
		}
		groups = append(groups, all[i:j])
		i = j
	}
	return groups, true
}

// writeSamples writes one family's series as the text format does.
func writeSamples(buf *bytes.Buffer, g []sample) {
	var num [32]byte
	for _, x := range g {
		buf.WriteString(x.info.fam.name)
		if len(x.info.labels) > 0 {
			for i, name := range x.info.labels {
				if i == 0 {
					buf.WriteByte('{')
				} else {
					buf.WriteByte(',')
				}
				buf.WriteString(name)
				buf.WriteString(`="`)
				writeEscaped(buf, x.label(i))
				buf.WriteByte('"')
			}
			buf.WriteByte('}')
		}
		buf.WriteByte(' ')
		buf.Write(appendFloat(num[:0], x.s.Value()))
		buf.WriteByte('\n')
	}
}

// writeEscaped escapes a label value: backslash, newline, double quote.
func writeEscaped(buf *bytes.Buffer, v string) {
	if !strings.ContainsAny(v, "\\\n\"") {
		buf.WriteString(v)
		return
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		case '"':
			buf.WriteString(`\"`)
		default:
			buf.WriteByte(c)
		}
	}
}

// appendFloat formats a value as the text format does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// valueType is a family's type as a sample's.
func valueType(t dto.MetricType) prometheus.ValueType {
	switch t {
	case dto.MetricType_COUNTER:
		return prometheus.CounterValue
	case dto.MetricType_GAUGE:
		return prometheus.GaugeValue
	case dto.MetricType_UNTYPED:
		return prometheus.UntypedValue
	}
	return 0 // never a sample's
}
