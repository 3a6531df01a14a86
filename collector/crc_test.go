package collector

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		a, b := make([]byte, r.IntN(3000)), make([]byte, r.IntN(5000)+i%2)
		for j := range a {
			a[j] = byte(r.Uint32())
		}
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		if got := crcCombine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), uint64(len(b))); got != want {
			t.Fatalf("%d+%d bytes: %08x, want %08x", len(a), len(b), got, want)
		}
	}
	if got := crcCombine(crc32.ChecksumIEEE([]byte("abc")), 0, 0); got != crc32.ChecksumIEEE([]byte("abc")) {
		t.Fatalf("empty tail: %08x", got)
	}
}
