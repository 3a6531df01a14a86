// Package config reads the agent's SFBEX_* variables into typed values.
//
// Each part of the agent (the estate, the web client, every probe family)
// declares its variables as a struct whose fields carry `env:"SFBEX_…"` tags
// (github.com/sethvargo/go-envconfig syntax, defaults included) and loads it
// with Load from a Source. A Source is only a lookup function, so a test
// hands it a map and the lab hands it its own settings: nothing reads or
// rewrites the process environment but Environ.
//
// The rules every variable follows:
//   - NAME_FILE names a file holding the value (Docker and Kubernetes
//     secrets); setting both NAME and NAME_FILE is an error, and an empty
//     NAME_FILE counts as unset;
//   - an empty scalar counts as unset, so a template that renders
//     SFBEX_DNS_INTERVAL= gets the default;
//   - an empty list stays an empty list (SFBEX_EMAIL_DOMAINS= means none),
//     which is not the same as an unset one.
package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	envconfig "github.com/sethvargo/go-envconfig"
)

// Prefix starts every variable the agent reads.
const Prefix = "SFBEX_"

// Source looks up one variable by its full name (SFBEX_DNS_INTERVAL).
type Source func(name string) (value string, ok bool)

// Environ reads the process environment.
func Environ() Source { return os.LookupEnv }

// Map reads from m: for tests and the lab.
func Map(m map[string]string) Source {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// Load fills target, a pointer to a struct whose fields carry
// `env:"SFBEX_NAME[, default=…]"` tags, from src. Errors name the variable,
// the value and a good example.
func Load(src Source, target any) error {
	fields, err := fieldsOf(target)
	if err != nil {
		return err
	}
	values := map[string]string{}
	for _, f := range fields {
		v, ok, err := resolve(src, f.name, f.list)
		if err != nil {
			return err
		}
		if ok && (v != "" || f.list) {
			values[f.name] = v
		}
	}
	err = envconfig.ProcessWith(context.Background(), &envconfig.Config{
		Target:   target,
		Lookuper: envconfig.MapLookuper(values),
	})
	if err != nil {
		return explain(err, fields, values)
	}
	// go-envconfig leaves a list set to "" nil, like an unset one: make it
	// an empty list, so "no email domains" differs from "not configured".
	v := reflect.ValueOf(target).Elem()
	for _, f := range fields {
		if val, ok := values[f.name]; ok && f.list && val == "" {
			fv := v.FieldByName(f.goName)
			fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
		}
	}
	return nil
}

// Names lists the variables target declares, in field order.
func Names(target any) []string {
	fields, err := fieldsOf(target)
	if err != nil {
		panic(err) // a programming error: tests catch it
	}
	var out []string
	for _, f := range fields {
		out = append(out, f.name)
	}
	return out
}

// IsSet reports whether name is set to a non-empty value, directly or
// through NAME_FILE: for rules like "unless the admin set X".
func IsSet(src Source, name string) bool {
	v, ok, err := resolve(src, name, false)
	return err == nil && ok && v != ""
}

// resolve applies the NAME / NAME_FILE rules. An empty list is a value
// (no items), so it conflicts with NAME_FILE; an empty scalar is unset.
func resolve(src Source, name string, list bool) (string, bool, error) {
	v, ok := src(name)
	path, fromFile := src(name + "_FILE")
	if !fromFile || path == "" {
		return v, ok, nil
	}
	if ok && (v != "" || list) {
		return "", false, fmt.Errorf("%s and %s_FILE are both set: set only one", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("%s_FILE: cannot read %q (%v): point it at a readable file, e.g. %s_FILE=/run/secrets/%s",
			name, path, errors.Unwrap(err), name, strings.ToLower(name))
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

type field struct {
	goName, name, typ string
	def               string // the default, if the tag has one
	list              bool
}

func fieldsOf(target any) ([]field, error) {
	t := reflect.TypeOf(target)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: Load needs a pointer to a struct, not %T", target)
	}
	t = t.Elem()
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("env")
		if tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		name = strings.TrimSpace(name)
		var def string
		if _, d, ok := strings.Cut(opts, "default="); ok {
			def, _, _ = strings.Cut(d, ",")
		}
		if !strings.HasPrefix(name, Prefix) {
			return nil, fmt.Errorf("config: field %s.%s: variable %q does not start with %s", t.Name(), sf.Name, name, Prefix)
		}
		out = append(out, field{goName: sf.Name, name: name, typ: typeName(sf.Type), def: def, list: sf.Type.Kind() == reflect.Slice})
	}
	return out, nil
}

func typeName(t reflect.Type) string {
	switch {
	case t.String() == "time.Duration":
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	}
	return "value"
}

var examples = map[string]string{
	"duration": "1m30s", "list": "a,b", "boolean": "true", "whole number": "16", "number": "0.95", "value": "…",
}

// explain rewrites go-envconfig's "Field: value: cause" errors to name the
// variable, its value and a good example: its default, or one of its type.
func explain(err error, fields []field, values map[string]string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, f := range fields {
		if strings.HasPrefix(msg, f.goName+":") {
			eg := f.def
			if eg == "" {
				eg = examples[f.typ]
			}
			return fmt.Errorf("%s=%q is not a valid %s; e.g. %s=%s", f.name, values[f.name], f.typ, f.name, eg)
		}
	}
	return fmt.Errorf("configuration: %w", err)
}

// Unknown lists the SFBEX_* variables in environ ("NAME=value" pairs) that
// no part of the agent reads: most often a typo.
func Unknown(environ []string, known []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		base := strings.TrimSuffix(name, "_FILE")
		if strings.HasPrefix(name, Prefix) && !slices.Contains(known, name) && !slices.Contains(known, base) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
