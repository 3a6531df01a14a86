// Command sfbex-mixin writes the mixin's outputs into the repository (the default), or one
// rule file for a given configuration:
//
//	go run ./cmd/sfbex-mixin -root ..                                    # alerts/, dashboards/, the chart
//	go run ./cmd/sfbex-mixin -config '{sfbexSelector: "job=\"x\""}' -rules out.yml
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/sfbex/sfbex_exporter/mixin"
)

func main() {
	root := flag.String("root", "..", "the repository's root directory")
	config := flag.String("config", "", "a Jsonnet object mixed into _config (with -rules)")
	rules := flag.String("rules", "", "write only the rule file, for -config, to this path")
	flag.Parse()
	if err := run(*root, *config, *rules); err != nil {
		fmt.Fprintln(os.Stderr, "sfbex-mixin:", err)
		os.Exit(1)
	}
}

func run(root, config, rules string) error {
	if rules != "" {
		r, err := mixin.Render(config)
		if err != nil {
			return err
		}
		return os.WriteFile(rules, r.RulesYAML(), 0o644)
	}
	if config != "" {
		return fmt.Errorf("-config needs -rules: the repository's files use the defaults")
	}
	files, err := mixin.Files()
	if err != nil {
		return err
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", name)
	}
	return nil
}
