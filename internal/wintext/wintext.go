// Package wintext reads text the way Windows tools write it: UTF-8 with or
// without a byte order mark, or UTF-16 (little or big endian) with one, as
// Windows PowerShell 5.1's Out-File and some IIS handlers produce.
package wintext

import (
	"bytes"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrOddUTF16 is returned for UTF-16 text with an odd number of bytes.
var ErrOddUTF16 = errors.New("UTF-16 text with an odd number of bytes")

// ToUTF8 returns b as UTF-8 without a byte order mark. Text without a BOM
// is returned as is.
func ToUTF8(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:], nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		le := b[0] == 0xFF
		b = b[2:]
		if len(b)%2 != 0 {
			return nil, ErrOddUTF16
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			if le {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		out := make([]byte, 0, len(u))
		for _, r := range utf16.Decode(u) {
			out = utf8.AppendRune(out, r)
		}
		return out, nil
	}
	return b, nil
}
