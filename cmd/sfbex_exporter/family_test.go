package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes/all"
)

// Adding a family is one folder and one line in probes/all, plus the lab
// and the docs (docs/architecture.md#adding-a-family). This keeps the
// "plus": every registered family runs on the lab, has at least one lab
// fault of its own (the end-to-end alert test then demands an alert for
// it), and is named in the architecture document. Its variables and
// metrics are held to the docs by docs_test.go.
func TestEveryFamilyHasTheLabAndTheDocs(t *testing.T) {
	l, err := startLab("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := configure(config.Map(l.Env(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	probesOf := map[string][]string{} // family -> the probe labels of its checks on the lab
	for _, c := range a.Checks {
		f := a.Family[c.ID()]
		if !slices.Contains(probesOf[f], c.Probe) {
			probesOf[f] = append(probesOf[f], c.Probe)
		}
	}
	arch := readDoc(t, "docs/architecture.md")
	var names []string
	for _, f := range all.Families {
		if slices.Contains(names, f.Name) {
			t.Errorf("two families are named %s", f.Name)
		}
		names = append(names, f.Name)
		if f.Checks == nil || f.Vars == nil {
			t.Errorf("family %s lacks Checks or Vars", f.Name)
		}
		kinds := probesOf[f.Name]
		if len(kinds) == 0 {
			t.Errorf("family %s builds no check on the lab: give lab.Env the variables it needs", f.Name)
			continue
		}
		if !slices.ContainsFunc(lab.Faults, func(x lab.Fault) bool { return slices.Contains(kinds, x.Family) }) {
			t.Errorf("family %s (checks %v) has no lab fault: add one to lab.Faults with Family one of %v", f.Name, kinds, kinds)
		}
		if !strings.Contains(arch, "`probes/"+f.Name+"/`") {
			t.Errorf("docs/architecture.md does not name `probes/%s/`", f.Name)
		}
	}
	// And the reverse: a folder under probes/ with a config.go is a family
	// that must be registered.
	entries, err := os.ReadDir(moduleRoot + "/probes")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := os.Stat(moduleRoot + "/probes/" + e.Name() + "/config.go"); e.IsDir() && err == nil && !slices.Contains(names, e.Name()) {
			t.Errorf("probes/%s has a config.go but is not registered in probes/all", e.Name())
		}
	}
}
