package config

import (
	"fmt"
	"strings"
)

const redacted = "[redacted]"

// Secret is a password or token. However it is printed, logged or
// marshalled it shows "[redacted]"; Reveal is the one way to its value,
// for the code that sends it to the server it belongs to.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// Scrub replaces the secret's value in msg (a server may echo it back in
// an error).
func (s Secret) Scrub(msg string) string {
	if len(s) < 3 { // replacing "a" everywhere would say nothing and garble the message
		return msg
	}
	return strings.ReplaceAll(msg, string(s), redacted)
}

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Format keeps %s, %v, %q, %x and every other verb from printing the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
