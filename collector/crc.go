package collector

// CRC-32 (IEEE) of a concatenation from the CRCs of its parts, so that a
// scrape can send a gzip stream made of chunks compressed when their
// results arrived: the gzip trailer needs the CRC of the whole body.
// Arithmetic in GF(2)[x] modulo the CRC polynomial, bit-reflected as
// hash/crc32 computes it.

const crcPoly = 0xedb88320 // IEEE, reflected

// crcMul returns a·b mod P (reflected: bit 31 is x^0).
func crcMul(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// crcPow2 holds x^(2^k) mod P.
var crcPow2 = func() (t [64]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = crcMul(p, p)
	}
	return t
}()

// crcShift returns x^(8n) mod P: appending n zero bytes multiplies by it.
func crcShift(n uint64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = crcMul(crcPow2[k], p)
		}
	}
	return p
}

// crcCombine returns the CRC of a‖b from crc(a), crc(b) and len(b).
func crcCombine(crcA, crcB uint32, lenB uint64) uint32 {
	return crcMul(crcShift(lenB), crcA) ^ crcB
}
