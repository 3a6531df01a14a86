package collector

// keySet is a set of series keys (seriesKey): open addressing with linear
// probing in one slice, 9 to 18 bytes a key. A map[uint64]struct{} costs ~28
// bytes a key in the heap profile, 4.6 KB a domain at 165 series per
// domain (issue 17). Key 0 stands for itself through zeroKey, since an
// empty slot is 0.
type keySet struct {
	slots []uint64
	n     int
}

// zeroKey stands for the key 0, since 0 marks an empty slot: a series
// whose key is zeroKey and one whose key is 0 would count as one, a 2^-64
// chance of a false duplicate report, never a missed one.
const zeroKey = 0x9e3779b97f4a7c15

func slotKey(k uint64) uint64 {
	if k == 0 {
		return zeroKey
	}
	return k
}

// home is the slot where a search for k starts.
func (s *keySet) home(k uint64) int {
	// Keys are FNV hashes; mixing spreads their low bits.
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return int(k & uint64(len(s.slots)-1))
}

// add inserts k; it reports false when k was already there.
func (s *keySet) add(k uint64) bool {
	k = slotKey(k)
	// Filled up to 7/8: probing is longer than at 3/4, but the set is
	// searched only when a check's series change; its size is what counts
	// (at 1.65 million keys, 3/4 meant a table twice as large).
	if (s.n+1)*8 > len(s.slots)*7 {
		s.grow()
	}
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = k
			s.n++
			return true
		case k:
			return false
		}
	}
}

// remove deletes k if present, shifting later keys of its probe sequence
// back so that no search stops early at the hole.
func (s *keySet) remove(k uint64) {
	if s.n == 0 {
		return
	}
	k = slotKey(k)
	mask := len(s.slots) - 1
	i := s.home(k)
	for ; s.slots[i] != k; i = (i + 1) & mask {
		if s.slots[i] == 0 {
			return
		}
	}
	s.slots[i] = 0
	s.n--
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		h := s.home(s.slots[j])
		// Move slots[j] into the hole unless its home lies cyclically in
		// (i, j]: then it is still reachable where it is.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			s.slots[i], s.slots[j] = s.slots[j], 0
			i = j
		}
	}
}

func (s *keySet) contains(k uint64) bool {
	if s.n == 0 {
		return false
	}
	k = slotKey(k)
	mask := len(s.slots) - 1
	for i := s.home(k); s.slots[i] != 0; i = (i + 1) & mask {
		if s.slots[i] == k {
			return true
		}
	}
	return false
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(64, 2*len(old)))
	s.n = 0
	for _, k := range old {
		if k != 0 {
			mask := len(s.slots) - 1
			i := s.home(k)
			for s.slots[i] != 0 {
				i = (i + 1) & mask
			}
			s.slots[i] = k
			s.n++
		}
	}
}
