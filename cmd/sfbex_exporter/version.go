package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

func init() {
	bi, _ := debug.ReadBuildInfo()
	stampVersion(bi)
}

// stampVersion fills what a release build sets with -ldflags from what the
// go command embeds, so `--version` and sfbex_exporter_build_info say which
// source a binary came from. The module version comes from `go install
// module@version`; the VCS stamp (vcs.revision, vcs.time, vcs.modified) from
// `go build` in a git checkout. go run, go test and -buildvcs=false builds
// carry no stamp: they say dev and unknown. Values set by -ldflags win.
// Go records no branch, so the branch is unknown unless -ldflags sets it.
func stampVersion(bi *debug.BuildInfo) {
	var revision, date string
	modified := false
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version.Version == "" {
		version.Version = "dev"
		if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version.Version = bi.Main.Version
		}
	}
	if version.Revision == "" {
		version.Revision = "unknown"
		if revision != "" {
			version.Revision = revision
			if modified {
				// Built from a checkout with uncommitted changes.
				version.Revision += "-modified"
			}
		}
	}
	if version.BuildDate == "" {
		// The commit's time: a build from the same commit gets the same date.
		version.BuildDate = "unknown"
		if date != "" {
			version.BuildDate = date
		}
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
}
