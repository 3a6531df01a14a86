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
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/wintext"
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
	// Culture is the server's culture (script 1.1.0 and later), named in
	// the hint when a date was written in it.
	Culture Text
	// Errors lists what the script could not export; their sections are
	// null, and Parse makes them so even if the snapshot holds one.
	Errors           List[CmdletError]
	SkypeForBusiness *SfBData
	Exchange         *ExchangeData
	// ExchangeOnline is the optional Exchange Online part (script 1.2.0
	// and later, run with its -ExchangeOnline… parameters), next to
	// either shell's section; nil when it was not asked for.
	ExchangeOnline *ExchangeOnlineData

	// FieldErrors are the dates that could not be read (at most
	// maxFieldErrors); each counts as unknown, the rest of the snapshot is
	// used.
	FieldErrors []FieldError `json:"-"`
}

// CmdletError is one cmdlet the script could not run, and the section it
// left out (e.g. "Exchange.AuthServers"; older scripts name only the
// cmdlet, and Parse fills it in).
type CmdletError struct {
	Section Text
	Cmdlet  Text
	Message Text
}

// FieldError is one value the agent could not read.
type FieldError struct {
	Field string `json:"field"`
	Error string `json:"error"`
}

// maxFieldErrors bounds the field errors kept per snapshot.
const maxFieldErrors = 20

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
	// Script 1.2.0 and later: the server's product and component versions.
	ServerVersion List[ServerVersion]
	PatchVersions List[PatchVersion]
	// The optional Teams part (Connect-MicrosoftTeams): absent when the
	// script was not given a tenant to connect to.
	TenantFederationConfiguration List[TenantFederation]
}

// ServerVersion is Get-CsServerVersion's one line of text, e.g. "Skype for
// Business Server 2019 (7.0.2046.0): Volume license key installed." Its
// version is the release the server was installed from, not its patch
// level.
type ServerVersion struct {
	Product Text
}

// PatchVersion is one row of Get-CsServerPatchVersion: a component
// installed on the server and its version ("Skype for Business Server
// 2019, Core Components", "7.0.2046.553").
type PatchVersion struct {
	ComponentName Text
	Version       Text
}

// TenantFederation is the Teams tenant's Get-CsTenantFederationConfiguration.
type TenantFederation struct {
	Identity              Text
	SharedSipAddressSpace Bool
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
	AutodiscoverUrl           Text // the Teams provider's; absent from snapshots of script 1.1.0
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
	// EffectiveDate is when a certificate staged with Set-CsCertificate
	// -Roll -EffectiveDate takes over (Get-CsCertificate, script 1.2.0 and
	// later); absent for the current one and from Get-ExchangeCertificate.
	EffectiveDate Time
}

// ExchangeData is what the Exchange Management Shell showed.
type ExchangeData struct {
	AuthConfig            List[AuthConfig]
	AuthCertificates      List[Certificate]
	PartnerApplications   List[ExPartnerApp]
	AuthServers           List[ExAuthServer]
	OwaVirtualDirectories List[OwaVirtualDirectory]
	// SettingOverrides: Get-SettingOverride (script 1.2.0 and later);
	// absent from earlier snapshots, which is not an error.
	SettingOverrides List[SettingOverride]
	// Script 1.2.0 and later: the local server's Get-ExchangeServer and the
	// file version of its ExSetup.exe; absent from earlier snapshots.
	ExchangeServer List[ExServer]
	ExSetup        List[ExSetupFile]
}

// ExServer is Get-ExchangeServer of the server the script ran on.
// AdminDisplayVersion is its text, e.g. "Version 15.2 (Build 2562.17)":
// the cumulative update installed, without security updates.
type ExServer struct {
	Name                Text
	Fqdn                Text
	Edition             Text
	AdminDisplayVersion Text
}

// ExSetupFile is the file version of the server's ExSetup.exe in the long
// format, e.g. "15.02.2562.017": the exact build, security updates
// included (Learn "Exchange Server build numbers and release dates").
type ExSetupFile struct {
	FileVersion Text
}

// SettingOverride is one Get-SettingOverride row. The cmdlet shows the
// -Component and -Section of New-SettingOverride as ComponentName and
// SectionName, and -Parameters as a list of "Name=Value" strings.
type SettingOverride struct {
	Name          Text
	ComponentName Text
	SectionName   Text
	Parameters    List[Text]
	Server        List[Text]
}

// ExchangeOnlineData is what Exchange Online showed, read with
// Connect-ExchangeOnline (app-only certificate authentication). A nil list
// means the cmdlet (or the connection) failed.
type ExchangeOnlineData struct {
	// Organization and Environment are the -Organization and
	// -ExchangeEnvironmentName the script connected with.
	Organization Text
	Environment  Text
	// OrganizationConfig: Get-OrganizationConfig.
	OrganizationConfig List[ExoOrganizationConfig]
	// EwsOperationAccessPolicy: Get-OrganizationConfig
	// -RetrieveEwsOperationAccessPolicy, the application ID allow list.
	EwsOperationAccessPolicy List[EwsOperationAccessPolicy]
}

// ExoOrganizationConfig is Get-OrganizationConfig's EWS settings.
// EwsEnabled null means never set; EwsApplicationAccessPolicy null means
// no user-agent policy.
type ExoOrganizationConfig struct {
	EwsApplicationAccessPolicy Text
	EwsEnabled                 Bool
	EwsAllowList               List[Text]
	EwsBlockList               List[Text]
}

// EwsOperationAccessPolicy is Get-OrganizationConfig
// -RetrieveEwsOperationAccessPolicy. How EwsAllowedAppIDs reads back is
// not documented (it is set as one comma-separated string): AppIDs
// accepts one string of comma-separated IDs, a list of them, or both.
type EwsOperationAccessPolicy struct {
	EwsAllowedAppIDs List[Text]
}

// AppIDs returns the allowed application IDs, lower case, without repeats.
func (p EwsOperationAccessPolicy) AppIDs() []string {
	var out []string
	for _, t := range p.EwsAllowedAppIDs {
		for _, id := range strings.Split(string(t), ",") {
			if id = strings.ToLower(strings.Trim(strings.TrimSpace(id), "{}")); id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
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

// Time is a date. The script (1.1.0 and later) writes ISO 8601 round-trip
// text in UTC, formatted in the invariant culture under both shells
// ("2023-11-14T22:13:20.1234567Z"). Also read, for snapshots made by hand
// with ConvertTo-Json of raw DateTime values: any RFC 3339 date with a zone,
// Windows PowerShell 5.1's "\/Date(1700000000000)\/" (milliseconds, optional
// +hhmm that does not change the instant) and its wrapped {"value": ...,
// "DateTime": ...}. The zero Time means absent.
//
// A date that is present but unreadable (the server's culture, no zone) is
// not an error for the whole snapshot: Bad says why, the Time counts as
// unknown, and Parse lists it in FieldErrors.
type Time struct {
	time.Time
	Bad string
}

// Unknown reports whether the date was present but could not be read.
func (t Time) Unknown() bool { return t.Bad != "" }

var msDateRe = regexp.MustCompile(`^/Date\((-?\d{1,15})([+-]\d{4})?\)/$`)

func (t *Time) UnmarshalJSON(b []byte) error {
	*t = Time{}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	if m, ok := x.(map[string]any); ok {
		x = nil
		found := false
		for k, v := range m {
			if strings.EqualFold(k, "value") {
				x, found = v, true
				break
			}
		}
		if !found {
			t.Bad = "an object without a value where a date was expected"
			return nil
		}
	}
	switch x := x.(type) {
	case nil:
	case string:
		p, err := ParseTime(x)
		if err != nil {
			t.Bad = err.Error()
			return nil
		}
		t.Time = p
	default:
		t.Bad = fmt.Sprintf("%s where a date was expected", clipText(strings.TrimSpace(string(b)), 40))
	}
	return nil
}

// cultureFix says how to get dates the agent reads.
const cultureFix = "export with scripts/Export-SfbexSnapshot.ps1 1.1.0 or later, which writes dates in the invariant culture (ISO 8601 round-trip, UTC)"

var (
	isoNoZoneRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$`)
	isoOtherSepRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}([^\d:])\d{2}[^\d:]\d{2}`)
)

// ParseTime reads one date: RFC 3339 with a zone, or \/Date(ms)\/. A date
// formatted in a server's culture is refused with what gave it away.
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
	if p, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return p.UTC(), nil
	}
	q := clipText(s, 40)
	if isoNoZoneRe.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q has no time zone, so the instant is unknown: %s", q, cultureFix)
	}
	if m := isoOtherSepRe.FindStringSubmatch(s); m != nil {
		return time.Time{}, fmt.Errorf("%q separates hours, minutes and seconds with %q: it was formatted in the server's culture; %s", q, m[1], cultureFix)
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date with a time zone (2023-11-14T22:13:20.1234567Z): it looks formatted in the server's culture; %s", q, cultureFix)
}

// collectBadDates lists the unreadable dates under v, named by their path
// in the snapshot ("SkypeForBusiness.ReplicationStatus[1].LastStatusReport").
func collectBadDates(v reflect.Value, path string, out *[]FieldError, n *int) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			collectBadDates(v.Elem(), path, out, n)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectBadDates(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out, n)
		}
	case reflect.Struct:
		if t, ok := v.Interface().(Time); ok {
			if t.Bad != "" {
				if *n++; len(*out) < maxFieldErrors {
					*out = append(*out, FieldError{Field: path, Error: t.Bad})
				}
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			collectBadDates(v.Field(i), p, out, n)
		}
	}
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
	if err := s.checkTimestamp(); err != nil {
		return nil, err
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
	s.markFailedSections()
	n := 0
	collectBadDates(reflect.ValueOf(&s).Elem(), "", &s.FieldErrors, &n)
	if n > len(s.FieldErrors) {
		s.FieldErrors = append(s.FieldErrors, FieldError{Field: "…", Error: fmt.Sprintf("%d more dates could not be read", n-len(s.FieldErrors))})
	}
	return &s, nil
}

// checkTimestamp: the snapshot's own date is required, as it orders and
// ages snapshots. One in the server's culture rejects the snapshot, with
// what gave it away.
func (s *Snapshot) checkTimestamp() error {
	if s.Timestamp.Unknown() {
		return fmt.Errorf("field Timestamp: %s", s.Timestamp.Bad)
	}
	if s.Timestamp.IsZero() {
		return errors.New("no Timestamp: the snapshot must say when it was taken")
	}
	culture := ""
	if c := strings.TrimSpace(string(s.Culture)); c != "" {
		culture = fmt.Sprintf(" (culture %s)", clipText(c, 20))
	}
	switch y := s.Timestamp.Year(); {
	case y >= 2000+543 && y <= 2200+543:
		return fmt.Errorf("field Timestamp %s: year %d is 543 years ahead, a Thai Buddhist calendar year: it was formatted in the server's calendar%s; %s",
			s.Timestamp.Format(time.RFC3339), y, culture, cultureFix)
	case y < 2000 || y > 2200:
		return fmt.Errorf("field Timestamp %s: year %d is not a Gregorian year of this era, so it was formatted in the server's calendar%s; %s",
			s.Timestamp.Format(time.RFC3339), y, culture, cultureFix)
	}
	return nil
}

// sectionCmdlets names the cmdlet behind each section, for snapshots of
// scripts before 1.1.0, whose errors name only the cmdlet.
var sectionCmdlets = map[string]string{
	"SkypeForBusiness.ReplicationStatus":             "Get-CsManagementStoreReplicationStatus",
	"SkypeForBusiness.HostingProviders":              "Get-CsHostingProvider",
	"SkypeForBusiness.AccessEdgeConfiguration":       "Get-CsAccessEdgeConfiguration",
	"SkypeForBusiness.OAuthConfiguration":            "Get-CsOAuthConfiguration",
	"SkypeForBusiness.PartnerApplications":           "Get-CsPartnerApplication",
	"SkypeForBusiness.TrustedApplications":           "Get-CsTrustedApplication",
	"SkypeForBusiness.OAuthServers":                  "Get-CsOAuthServer",
	"SkypeForBusiness.OAuthTokenIssuerCertificates":  "Get-CsCertificate",
	"SkypeForBusiness.ServerVersion":                 "Get-CsServerVersion",
	"SkypeForBusiness.PatchVersions":                 "Get-CsServerPatchVersion",
	"SkypeForBusiness.TenantFederationConfiguration": "Get-CsTenantFederationConfiguration",
	"Exchange.AuthConfig":                            "Get-AuthConfig",
	"Exchange.AuthCertificates":                      "Get-ExchangeCertificate",
	"Exchange.PartnerApplications":                   "Get-PartnerApplication",
	"Exchange.AuthServers":                           "Get-AuthServer",
	"Exchange.OwaVirtualDirectories":                 "Get-OwaVirtualDirectory",
	"Exchange.SettingOverrides":                      "Get-SettingOverride",
	"Exchange.ExchangeServer":                        "Get-ExchangeServer",
	"Exchange.ExSetup":                               "Get-Command ExSetup.exe",
	"ExchangeOnline.OrganizationConfig":              "Get-OrganizationConfig",
	"ExchangeOnline.EwsOperationAccessPolicy":        "Get-OrganizationConfig",
}

// optionalSections may be absent without an error: the versions and the
// setting overrides came with script 1.2.0 (older snapshots lack them), and the Teams part runs only
// when the script is given a tenant. A failure the script records for them
// is reported as for any section.
var optionalSections = map[string]bool{
	"SkypeForBusiness.ServerVersion":                 true,
	"SkypeForBusiness.PatchVersions":                 true,
	"SkypeForBusiness.TenantFederationConfiguration": true,
	"Exchange.SettingOverrides":                      true,
	"Exchange.ExchangeServer":                        true,
	"Exchange.ExSetup":                               true,
}

// ExchangeOnlineSection prefixes the sections of the Exchange Online part.
const ExchangeOnlineSection = "ExchangeOnline"

// markFailedSections makes every section an error names null, so that a
// failed cmdlet is never judged as "returned nothing", and records every
// section that is null without an error, so that it is not silent either.
// The shell's section and the Exchange Online part are handled alike.
func (s *Snapshot) markFailedSections() {
	groups := map[string]reflect.Value{}
	if s.Shell == ShellSfB {
		groups[ShellSfB] = reflect.ValueOf(s.SkypeForBusiness).Elem()
	} else {
		groups[ShellExchange] = reflect.ValueOf(s.Exchange).Elem()
	}
	if s.ExchangeOnline != nil {
		groups[ExchangeOnlineSection] = reflect.ValueOf(s.ExchangeOnline).Elem()
	}
	prefix := string(s.Shell) + "."
	field := func(sec string) (reflect.Value, bool) {
		g, name, _ := strings.Cut(sec, ".")
		data, ok := groups[g]
		if !ok || sectionCmdlets[sec] == "" {
			return reflect.Value{}, false
		}
		return data.FieldByName(name), true
	}
	named := map[string]bool{}
	for i := range s.Errors {
		e := &s.Errors[i]
		sec := strings.TrimSpace(string(e.Section))
		if sec == "" {
			// Scripts before 1.1.0 name only the cmdlet, of the shell's own sections.
			for k, c := range sectionCmdlets {
				if strings.HasPrefix(k, prefix) && eqFold(e.Cmdlet, c) {
					sec = k
				}
			}
		}
		for k := range sectionCmdlets {
			if strings.EqualFold(k, sec) {
				sec = k
			}
		}
		e.Section = Text(sec)
		if f, ok := field(sec); ok {
			f.SetZero()
			named[sec] = true
		}
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		data := groups[g]
		for i := range data.NumField() {
			sec := g + "." + data.Type().Field(i).Name
			if data.Field(i).Kind() != reflect.Slice || optionalSections[sec] {
				continue
			}
			if data.Field(i).IsNil() && !named[sec] && len(s.Errors) < maxItems {
				s.Errors = append(s.Errors, CmdletError{Section: Text(sec), Cmdlet: Text(sectionCmdlets[sec]), Message: "the section is missing or null and no error was recorded"})
			}
		}
	}
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
