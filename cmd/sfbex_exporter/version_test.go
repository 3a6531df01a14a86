package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/common/version"

	"github.com/sfbex/sfbex_exporter/collector"
)

// saveVersion restores the version variables after the test.
func saveVersion(t *testing.T) {
	v, r, b, d := version.Version, version.Revision, version.Branch, version.BuildDate
	t.Cleanup(func() { version.Version, version.Revision, version.Branch, version.BuildDate = v, r, b, d })
	version.Version, version.Revision, version.Branch, version.BuildDate = "", "", "", ""
}

func buildInfoLabels(t *testing.T) map[string]string {
	t.Helper()
	mfs, err := newRegistry(collector.NewStore(nil), false).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sfbex_exporter_build_info" {
			labels := map[string]string{}
			for _, l := range mf.GetMetric()[0].GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			return labels
		}
	}
	t.Fatal("no sfbex_exporter_build_info")
	return nil
}

// A `go build` in a git checkout embeds the commit; --version and
// sfbex_exporter_build_info show it instead of "revision: unknown".
func TestVersionFromTheVCSStamp(t *testing.T) {
	saveVersion(t)
	stampVersion(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "8bb405a6e1c1f0b7c0d5a8e3f3b1f2c4d5e6f7a8"},
		{Key: "vcs.time", Value: "2026-12-02T17:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}})
	out := version.Print("sfbex_exporter")
	for _, want := range []string{"version dev", "revision: 8bb405a6e1c1f0b7c0d5a8e3f3b1f2c4d5e6f7a8-modified", "branch: unknown", "build date:       2026-12-02T17:04:05Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("--version output lacks %q:\n%s", want, out)
		}
	}
	labels := buildInfoLabels(t)
	if labels["revision"] != "8bb405a6e1c1f0b7c0d5a8e3f3b1f2c4d5e6f7a8-modified" || labels["version"] != "dev" || labels["branch"] != "unknown" {
		t.Errorf("sfbex_exporter_build_info labels %v, want the same revision, version and branch as --version", labels)
	}
}

// Values set with -ldflags win over the stamp; no stamp at all (go run,
// -buildvcs=false) says unknown rather than leaving fields empty.
func TestVersionLdflagsWinAndNoStampSaysUnknown(t *testing.T) {
	saveVersion(t)
	version.Version, version.Revision, version.Branch, version.BuildDate = "1.2.3", "abc", "main", "20261201-10:00:00"
	stampVersion(&debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "def"}, {Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}}})
	if version.Version != "1.2.3" || version.Revision != "abc" || version.Branch != "main" || version.BuildDate != "20261201-10:00:00" {
		t.Errorf("ldflags values overwritten: %s %s %s %s", version.Version, version.Revision, version.Branch, version.BuildDate)
	}

	saveVersion(t)
	stampVersion(&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}})
	if version.Version != "v1.4.0" || version.Revision != "unknown" || version.Branch != "unknown" || version.BuildDate != "unknown" {
		t.Errorf("without a stamp: %s %s %s %s", version.Version, version.Revision, version.Branch, version.BuildDate)
	}
	saveVersion(t)
	stampVersion(nil)
	if version.Version != "dev" || version.Revision != "unknown" {
		t.Errorf("without build info: %s %s", version.Version, version.Revision)
	}
}
