package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Every validator below words its error the same way: the variable, the
// value, what it should be, and a good example to copy:
//
//	SFBEX_X="v" is not <what>; e.g. SFBEX_X=<example>       (a scalar)
//	SFBEX_X: "item" is not <what>; e.g. SFBEX_X=<example>   (one item of a list)

// Invalid says that a scalar variable's value is not what it should be.
func Invalid(name, value, what, example string) error {
	return fmt.Errorf("%s=%q is not %s; e.g. %s=%s", name, value, what, name, example)
}

// InvalidItem says that one item of a list variable is not what it should be.
func InvalidItem(name, item, what, example string) error {
	return fmt.Errorf("%s: %q is not %s; e.g. %s=%s", name, item, what, name, example)
}

// Items trims a list's items and drops empty ones (and "none", which the
// docs offer to say "nothing" explicitly).
func Items(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && s != "none" {
			out = append(out, s)
		}
	}
	return out
}

var hostLabelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// IsHostName reports whether h is a DNS name of at least two labels
// (lower case, no trailing dot): contoso.com, mail.contoso.com.
func IsHostName(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) < 2 || len(h) > 253 {
		return false
	}
	for _, l := range labels {
		if len(l) > 63 || !hostLabelRe.MatchString(l) {
			return false
		}
	}
	return true
}

// IsHost reports whether h is an IP address or a DNS name of any number of
// labels, service labels (_sip) included; any case, trailing dot allowed.
func IsHost(h string) bool {
	if net.ParseIP(strings.Trim(h, "[]")) != nil {
		return true
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if len(l) > 63 || !hostLabelRe.MatchString(strings.TrimPrefix(l, "_")) {
			return false
		}
	}
	return true
}

// IsEmail reports whether s is user@host.name.
func IsEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.ContainsAny(local, " \t<>\"") && IsHostName(strings.ToLower(domain))
}

// Domains checks a list of domain names, lower-cases them and drops
// repeats.
func Domains(name string, in []string) ([]string, error) {
	return names(name, in, IsHostName, "a domain name", "contoso.com,fabrikam.com")
}

// HostNames checks a list of host names, lower-cases them and drops
// repeats.
func HostNames(name string, in []string, example string) ([]string, error) {
	return names(name, in, IsHostName, "a host name", example)
}

// Hosts checks a list of hosts (names of any length, or addresses),
// lower-cases them and drops repeats.
func Hosts(name string, in []string, example string) ([]string, error) {
	return names(name, in, IsHost, "a host name or address", example)
}

func names(name string, in []string, valid func(string) bool, what, example string) ([]string, error) {
	var out []string
	for _, h := range Items(in) {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		if !valid(h) {
			return nil, InvalidItem(name, h, what, example)
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// HTTPSURL checks one absolute https URL without user information and
// returns it with its host in lower case.
func HTTPSURL(name, raw, example string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || !IsHost(u.Hostname()) {
		return "", Invalid(name, raw, "an https URL", example)
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// HTTPSURLs checks a list of https URLs and drops repeats.
func HTTPSURLs(name string, in []string, example string) ([]string, error) {
	var out []string
	for _, raw := range Items(in) {
		u, err := HTTPSURL(name, raw, example)
		if err != nil {
			return nil, InvalidItem(name, raw, "an https URL", example)
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

var guidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// IsGUID reports whether s is a GUID in its usual form
// (11111111-2222-3333-4444-555555555555), any case, without braces.
func IsGUID(s string) bool { return guidRe.MatchString(strings.ToLower(s)) }

// GUIDs checks a list of GUIDs (Entra application IDs), lower-cases them
// and drops repeats.
func GUIDs(name string, in []string, example string) ([]string, error) {
	var out []string
	for _, g := range Items(in) {
		g = strings.ToLower(g)
		if !IsGUID(g) {
			return nil, InvalidItem(name, g, "a GUID (an application ID such as 11111111-2222-3333-4444-555555555555)", example)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// HostPort is a checked host:port.
type HostPort struct {
	Host string // lower case, no trailing dot
	Port int
}

// HostPorts checks a list of host:port items.
func HostPorts(name string, in []string, example string) ([]HostPort, error) {
	var out []HostPort
	for _, item := range Items(in) {
		host, port, err := net.SplitHostPort(item)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || !IsHost(host) {
			return nil, InvalidItem(name, item, "host:port", example)
		}
		hp := HostPort{Host: strings.TrimSuffix(strings.ToLower(host), "."), Port: p}
		if !slices.Contains(out, hp) {
			out = append(out, hp)
		}
	}
	return out, nil
}

// OneOf checks that every item of a list is one of allowed and returns the
// items, trimmed, without repeats.
func OneOf(name string, in []string, allowed []string, example string) ([]string, error) {
	var out []string
	for _, s := range Items(in) {
		if !slices.Contains(allowed, s) {
			return nil, fmt.Errorf("%s: %q is not one of %s; e.g. %s=%s", name, s, strings.Join(allowed, ","), name, example)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Choice checks a scalar that takes one of a few words (any case) and
// returns it in lower case.
func Choice(name, value string, allowed []string, example string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(value))
	if !slices.Contains(allowed, v) {
		return "", fmt.Errorf("%s=%q is not one of %s; e.g. %s=%s", name, value, strings.Join(allowed, ", "), name, example)
	}
	return v, nil
}

// Positive checks that a duration is more than zero.
func Positive(name string, d time.Duration, example string) error {
	if d <= 0 {
		return fmt.Errorf("%s=%s must be positive; e.g. %s=%s", name, d, name, example)
	}
	return nil
}

// Schedule checks a family's SFBEX_<FAMILY>_INTERVAL and _TIMEOUT: both
// positive, and a run must end before the next one starts.
func Schedule(prefix string, interval, timeout time.Duration) error {
	iv, to := prefix+"_INTERVAL", prefix+"_TIMEOUT"
	if err := Positive(iv, interval, "1m"); err != nil {
		return err
	}
	if err := Positive(to, timeout, "30s"); err != nil {
		return err
	}
	if timeout > interval {
		return fmt.Errorf("%s=%s is longer than %s=%s: runs would overlap; e.g. %s=%s", to, timeout, iv, interval, to, interval/2)
	}
	return nil
}

// Within checks that a duration is at most a longer one it is part of.
func Within(name string, d time.Duration, outer string, outerD time.Duration, why string) error {
	if d > outerD {
		return fmt.Errorf("%s=%s is longer than %s=%s, %s; e.g. %s=%s", name, d, outer, outerD, why, name, outerD/2)
	}
	return nil
}

// Range checks that a whole number lies in [lo, hi].
func Range[T int | int64](name string, v, lo, hi T, example string) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s=%d must be from %d to %d; e.g. %s=%s", name, v, lo, hi, name, example)
	}
	return nil
}

// Ratio checks that a number lies in [0, 1].
func Ratio(name string, v float64, example string) error {
	if v < 0 || v > 1 {
		return fmt.Errorf("%s=%g must be from 0 to 1; e.g. %s=%s", name, v, name, example)
	}
	return nil
}

// Pairs checks a list of key=value items: every key one of allowed, given
// once, and every value accepted by valid (which says what is wrong). It
// returns the values by key.
func Pairs(name string, in []string, allowed []string, valid func(string) error, example string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range Items(in) {
		k, v, ok := strings.Cut(s, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return nil, InvalidItem(name, s, "key=value", example)
		}
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("%s: %q: %q is not one of %s; e.g. %s=%s", name, s, k, strings.Join(allowed, ","), name, example)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: %s is given twice; e.g. %s=%s", name, k, name, example)
		}
		if err := valid(v); err != nil {
			return nil, fmt.Errorf("%s: %q: %v; e.g. %s=%s", name, s, err, name, example)
		}
		out[k] = v
	}
	return out, nil
}
