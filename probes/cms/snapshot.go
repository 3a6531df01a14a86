// Package cms reads the snapshots scripts/Export-SfbexSnapshot.ps1 writes
// on a Skype for Business Front End or an Exchange server, and judges the
// Central Management Store replication and the integration settings of
// seeds 000–003 from them (docs/cms-snapshots.md specifies the format).
package cms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/probes/wintext"
)

// MaxSnapshotBytes bounds one snapshot. A large Front End with a few
// hundred replicas writes well under 1 MiB.
const MaxSnapshotBytes = 4 << 20

// maxItems bounds every list in a snapshot.
const maxItems = 10000

// Shells a snapshot can come from.
const (
	ShellSfB      = "SkypeForBusiness"
	ShellExchange = "Exchange"
)

// Snapshot is one run of the export script. Property names match
// case-insensitively (encoding/json does), so PowerShell's casing of the
// cmdlets' own properties does not matter.
type Snapshot struct {
	SnapshotVersion Text
	ScriptVersion   Text
	Timestamp       Time
	ComputerName    Text
	ComputerFqdn    Text
	Shell           Text
	PSVersion       Text
	PSEdition       Text
	// Errors lists the cmdlets that failed; their sections are null.
	Errors           List[CmdletError]
	SkypeForBusiness *SfBData
	Exchange         *ExchangeData
}

// CmdletError is one cmdlet the script could not run.
type CmdletError struct {
	Cmdlet  Text
	Message Text
}

// SfBData is what the Skype for Business Management Shell showed. A nil
// list means the cmdlet did not run; an empty one that it returned nothing.
type SfBData struct {
	ReplicationStatus            List[ReplicaState]
	HostingProviders             List[HostingProvider]
	AccessEdgeConfiguration      List[AccessEdge]
	OAuthConfiguration           List[OAuthConfig]
	PartnerApplications          List[SfBPartnerApp]
	TrustedApplications          List[TrustedApp]
	OAuthServers                 List[OAuthServer]
	OAuthTokenIssuerCertificates List[Certificate]
}

// ReplicaState is one row of Get-CsManagementStoreReplicationStatus.
type ReplicaState struct {
	ReplicaFqdn        Text
	UpToDate           Bool
	LastUpdateCreation Time
	LastStatusReport   Time
	ProductVersion     Text
}

// HostingProvider is one Get-CsHostingProvider row.
type HostingProvider struct {
	Identity                  Text
	Enabled                   Bool
	EnabledSharedAddressSpace Bool
	HostsOCSUsers             Bool
	ProxyFqdn                 Text
	IsLocal                   Bool
	VerificationLevel         Text
}

// AccessEdge is Get-CsAccessEdgeConfiguration.
type AccessEdge struct {
	Identity            Text
	AllowFederatedUsers Bool
}

// OAuthConfig is Get-CsOAuthConfiguration.
type OAuthConfig struct {
	Identity                Text
	ExchangeAutodiscoverUrl Text
	Realm                   Text
}

// SfBPartnerApp is one Get-CsPartnerApplication row.
type SfBPartnerApp struct {
	Identity              Text
	ApplicationIdentifier Text
	MetadataUrl           Text
	Enabled               Bool
}

// TrustedApp is one Get-CsTrustedApplication row.
type TrustedApp struct {
	Identity                   Text
	ApplicationId              Text
	TrustedApplicationPoolFqdn Text
	Port                       Text
}

// OAuthServer is one Get-CsOAuthServer row.
type OAuthServer struct {
	Identity    Text
	MetadataUrl Text
	Realm       Text
}

// Certificate is a certificate as Get-CsCertificate or
// Get-ExchangeCertificate shows it.
type Certificate struct {
	Thumbprint Text
	Subject    Text
	NotAfter   Time
	Use        Text
}

// ExchangeData is what the Exchange Management Shell showed.
type ExchangeData struct {
	AuthConfig            List[AuthConfig]
	AuthCertificates      List[Certificate]
	PartnerApplications   List[ExPartnerApp]
	AuthServers           List[ExAuthServer]
	OwaVirtualDirectories List[OwaVirtualDirectory]
}

// AuthConfig is Get-AuthConfig.
type AuthConfig struct {
	CurrentCertificateThumbprint  Text
	NextCertificateThumbprint     Text
	NextCertificateEffectiveDate  Time
	PreviousCertificateThumbprint Text
	ServiceName                   Text
	Realm                         Text
}

// ExPartnerApp is one Get-PartnerApplication row.
type ExPartnerApp struct {
	Name                  Text
	ApplicationIdentifier Text
	AuthMetadataUrl       Text
	Enabled               Bool
}

// ExAuthServer is one Get-AuthServer row.
type ExAuthServer struct {
	Name            Text
	Type            Text
	AuthMetadataUrl Text
	Enabled         Bool
}

// OwaVirtualDirectory is one Get-OwaVirtualDirectory row.
type OwaVirtualDirectory struct {
	Identity                Text
	Server                  Text
	InstantMessagingEnabled Bool
	InstantMessagingType    Text
}

// Text is a string that also accepts what PowerShell writes for enums
// (numbers) and switches (booleans), as their literal text.
type Text string

func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case string(b) == "null":
		*t = ""
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return errors.New("an object or array where text was expected")
	default:
		*t = Text(b)
	}
	return nil
}

// Numeric reports whether t is a bare number: an enum PowerShell wrote
// without -EnumsAsStrings, which cannot be judged by name.
func (t Text) Numeric() bool {
	_, err := strconv.Atoi(string(t))
	return err == nil
}

func (t Text) String() string { return string(t) }

// Bool is a boolean that remembers whether it was present. It accepts
// true/false and the strings "True"/"False".
type Bool struct {
	Known, Value bool
}

func (v *Bool) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	switch x := x.(type) {
	case nil:
		*v = Bool{}
	case bool:
		*v = Bool{true, x}
	case string:
		p, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return fmt.Errorf("%q is not a boolean", clipText(x, 40))
		}
		*v = Bool{true, p}
	default:
		return errors.New("not a boolean")
	}
	return nil
}

func (v Bool) MarshalJSON() ([]byte, error) {
	if !v.Known {
		return []byte("null"), nil
	}
	return json.Marshal(v.Value)
}

// Time is a date as either shell writes it: Windows PowerShell 5.1
// "\/Date(1700000000000)\/" (milliseconds, optional +hhmm that does not
// change the instant), PowerShell 7 ISO 8601, or 5.1's wrapped
// {"value": ..., "DateTime": ...} for dates that went through Get-Date. The
// zero Time means absent.
type Time struct{ time.Time }

var msDateRe = regexp.MustCompile(`^/Date\((-?\d{1,15})([+-]\d{4})?\)/$`)

// isoLayouts are the ISO 8601 forms PowerShell 7 writes; without a zone,
// the script writes UTC.
var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00"}

func (t *Time) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	if m, ok := x.(map[string]any); ok {
		for k, v := range m {
			if strings.EqualFold(k, "value") {
				x = v
				break
			}
		}
	}
	switch x := x.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case string:
		p, err := ParseTime(x)
		if err != nil {
			return err
		}
		t.Time = p
		return nil
	}
	return errors.New("not a date")
}

// ParseTime reads one date in either shell's format.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if m := msDateRe.FindStringSubmatch(s); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q out of range", clipText(s, 40))
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, l := range isoLayouts {
		if p, err := time.Parse(l, s); err == nil {
			return p.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither \\/Date(ms)\\/ nor ISO 8601", clipText(s, 40))
}

// List is a list that also accepts a single object, as PowerShell writes a
// one-element array. nil means absent or null; empty means "none".
type List[T any] []T

func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '[':
		var xs []T
		if err := json.Unmarshal(b, &xs); err != nil {
			return err
		}
		if len(xs) > maxItems {
			return fmt.Errorf("%d items, more than the %d a snapshot may hold", len(xs), maxItems)
		}
		if xs == nil {
			xs = []T{}
		}
		*l = xs
		return nil
	}
	var x T
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*l = List[T]{x}
	return nil
}

// Parse reads one snapshot: UTF-8 with or without a BOM, or UTF-16 with
// one. It checks the snapshot says what it is, where and when it was taken,
// and carries the section of its shell.
func Parse(b []byte) (*Snapshot, error) {
	if len(b) > MaxSnapshotBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d a snapshot may have", len(b), MaxSnapshotBytes)
	}
	text, err := wintext.ToUTF8(b)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(text); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object: write the snapshot with ConvertTo-Json, as scripts/Export-SfbexSnapshot.ps1 does")
	}
	var s Snapshot
	if err := json.Unmarshal(text, &s); err != nil {
		return nil, fmt.Errorf("not a valid snapshot: %s", clipText(err.Error(), 200))
	}
	if v := strings.TrimSpace(string(s.SnapshotVersion)); v != "1" && !strings.HasPrefix(v, "1.") {
		return nil, fmt.Errorf("SnapshotVersion %q: this agent reads version 1; use the export script shipped with it", clipText(v, 20))
	}
	if s.Timestamp.IsZero() || s.Timestamp.Year() < 2000 || s.Timestamp.Year() > 2200 {
		return nil, errors.New("no valid Timestamp: the snapshot must say when it was taken")
	}
	switch {
	case strings.EqualFold(string(s.Shell), ShellSfB):
		s.Shell = ShellSfB
		if s.SkypeForBusiness == nil {
			return nil, errors.New("the Shell field says SkypeForBusiness but the SkypeForBusiness section is missing")
		}
	case strings.EqualFold(string(s.Shell), ShellExchange):
		s.Shell = ShellExchange
		if s.Exchange == nil {
			return nil, errors.New("the Shell field says Exchange but the Exchange section is missing")
		}
	default:
		return nil, fmt.Errorf("the Shell field is %q: want SkypeForBusiness or Exchange", clipText(string(s.Shell), 40))
	}
	if _, err := s.Source(); err != nil {
		return nil, err
	}
	return &s, nil
}

var sourceUnsafe = regexp.MustCompile(`[^a-z0-9.-]+`)

// maxSourceLen bounds a source name (and so a file name).
const maxSourceLen = 100

// Source names where the snapshot comes from: the shell and the computer,
// e.g. "sfb-fe01.contoso.com". It is safe as a file name and a label.
func (s *Snapshot) Source() (string, error) {
	host := strings.ToLower(strings.TrimSpace(string(s.ComputerFqdn)))
	if host == "" {
		host = strings.ToLower(strings.TrimSpace(string(s.ComputerName)))
	}
	host = sourceUnsafe.ReplaceAllString(host, "-")
	for strings.Contains(host, "..") {
		host = strings.ReplaceAll(host, "..", ".")
	}
	host = strings.Trim(host, ".-")
	if host == "" {
		return "", errors.New("no ComputerName: the snapshot must say which server it comes from")
	}
	prefix := "sfb-"
	if s.Shell == ShellExchange {
		prefix = "exchange-"
	}
	name := prefix + host
	if len(name) > maxSourceLen {
		name = strings.TrimRight(name[:maxSourceLen], ".-")
	}
	return name, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
