package estate

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is this agent's share of an estate split among Count replicas
// that run the same configuration (SFBEX_SHARD=index/count). The zero
// value, and 0/1, watch the whole estate.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" with 0 ≤ i < n; an empty value is the whole
// estate.
func ParseShard(s string) (Shard, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Shard{Index: 0, Count: 1}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 1024 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("SFBEX_SHARD=%q is not index/count with 0 ≤ index < count ≤ 1024: "+
			"give each of N replicas its own index, e.g. SFBEX_SHARD=0/4 … SFBEX_SHARD=3/4 (a StatefulSet's pod ordinal)", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Sharded reports whether the estate is split among several agents.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Owns reports whether domain d belongs to this shard. The hash is of the
// lower-case name only, so every replica agrees without talking to the
// others, and a domain moves only when the count changes.
func (s Shard) Owns(d string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(strings.TrimSuffix(d, "."))))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// keep returns the domains of ds this shard owns.
func (s Shard) keep(ds []string) []string {
	if !s.Sharded() || ds == nil {
		return ds
	}
	out := []string{}
	for _, d := range ds {
		if s.Owns(d) {
			out = append(out, d)
		}
	}
	return out
}
