package wintext

import (
	"errors"
	"testing"
	"unicode/utf16"
)

func utf16le(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func TestToUTF8(t *testing.T) {
	const text = `{"name":"Exchange Online","date":"\/Date(1700000000000)\/","ü":"€ 𝄞"}`
	be := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(text)) {
		be = append(be, byte(u>>8), byte(u))
	}
	for name, in := range map[string][]byte{
		"plain":     []byte(text),
		"utf-8 bom": append([]byte{0xEF, 0xBB, 0xBF}, text...),
		"utf-16le":  utf16le(text, true),
		"utf-16be":  be,
	} {
		got, err := ToUTF8(in)
		if err != nil || string(got) != text {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if _, err := ToUTF8(append(utf16le("ab", true), 'x')); !errors.Is(err, ErrOddUTF16) {
		t.Errorf("odd UTF-16: %v", err)
	}
}
