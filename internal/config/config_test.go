package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Interval time.Duration `env:"SFBEX_T_INTERVAL, default=1m"`
	Count    int           `env:"SFBEX_T_COUNT, default=3"`
	On       bool          `env:"SFBEX_T_ON, default=true"`
	Names    []string      `env:"SFBEX_T_NAMES"`
	Password Secret        `env:"SFBEX_T_PASSWORD"`
	Ignored  string
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want sample
		err  string
	}{
		{name: "defaults", env: nil, want: sample{Interval: time.Minute, Count: 3, On: true}},
		{name: "values", env: map[string]string{"SFBEX_T_INTERVAL": "5s", "SFBEX_T_COUNT": "7", "SFBEX_T_ON": "false", "SFBEX_T_NAMES": "a, b"},
			want: sample{Interval: 5 * time.Second, Count: 7, Names: []string{"a", "b"}}},
		{name: "empty scalar is unset", env: map[string]string{"SFBEX_T_INTERVAL": "", "SFBEX_T_ON": ""},
			want: sample{Interval: time.Minute, Count: 3, On: true}},
		{name: "empty list is an empty list", env: map[string]string{"SFBEX_T_NAMES": ""},
			want: sample{Interval: time.Minute, Count: 3, On: true, Names: []string{}}},
		{name: "from a file", env: map[string]string{"SFBEX_T_PASSWORD_FILE": secretFile},
			want: sample{Interval: time.Minute, Count: 3, On: true, Password: "s3cret"}},
		{name: "empty _FILE is unset", env: map[string]string{"SFBEX_T_PASSWORD_FILE": "", "SFBEX_T_PASSWORD": "x"},
			want: sample{Interval: time.Minute, Count: 3, On: true, Password: "x"}},
		{name: "empty list beside its file", env: map[string]string{"SFBEX_T_NAMES_FILE": secretFile, "SFBEX_T_NAMES": ""},
			err: "SFBEX_T_NAMES and SFBEX_T_NAMES_FILE are both set: set only one"},
		{name: "empty scalar beside its file", env: map[string]string{"SFBEX_T_PASSWORD_FILE": secretFile, "SFBEX_T_PASSWORD": ""},
			want: sample{Interval: time.Minute, Count: 3, On: true, Password: "s3cret"}},
		{name: "both set", env: map[string]string{"SFBEX_T_PASSWORD_FILE": secretFile, "SFBEX_T_PASSWORD": "x"},
			err: "SFBEX_T_PASSWORD and SFBEX_T_PASSWORD_FILE are both set: set only one"},
		{name: "unreadable file", env: map[string]string{"SFBEX_T_PASSWORD_FILE": filepath.Join(dir, "nope")},
			err: `SFBEX_T_PASSWORD_FILE: cannot read "` + filepath.Join(dir, "nope") + `"`},
		{name: "bad duration", env: map[string]string{"SFBEX_T_INTERVAL": "soon"},
			err: `SFBEX_T_INTERVAL="soon" is not a valid duration; e.g. SFBEX_T_INTERVAL=1m`},
		{name: "bad number", env: map[string]string{"SFBEX_T_COUNT": "many"},
			err: `SFBEX_T_COUNT="many" is not a valid whole number; e.g. SFBEX_T_COUNT=3`},
		{name: "bad boolean", env: map[string]string{"SFBEX_T_ON": "sometimes"},
			err: `SFBEX_T_ON="sometimes" is not a valid boolean; e.g. SFBEX_T_ON=true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got sample
			err := Load(Map(tc.env), &got)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) || got.Password.Reveal() != tc.want.Password.Reveal() {
				t.Errorf("got %+v (password %q), want %+v (password %q)", got, got.Password.Reveal(), tc.want, tc.want.Password.Reveal())
			}
		})
	}
}

func TestNamesAndUnknown(t *testing.T) {
	names := Names(&sample{})
	if strings.Join(names, ",") != "SFBEX_T_INTERVAL,SFBEX_T_COUNT,SFBEX_T_ON,SFBEX_T_NAMES,SFBEX_T_PASSWORD" {
		t.Fatalf("Names = %v", names)
	}
	got := Unknown([]string{"SFBEX_T_COUNT=1", "SFBEX_T_PASSWORD_FILE=/x", "SFBEX_T_INTERVALL=5s", "HOME=/root"}, names)
	if strings.Join(got, ",") != "SFBEX_T_INTERVALL" {
		t.Fatalf("Unknown = %v, want the misspelt variable alone", got)
	}
}

func TestLoadRefusesAStructWithoutPrefixedNames(t *testing.T) {
	var bad struct {
		X string `env:"DEPLOYMENT"`
	}
	if err := Load(Map(nil), &bad); err == nil || !strings.Contains(err.Error(), "does not start with SFBEX_") {
		t.Fatalf("error %v", err)
	}
}

func TestSecretNeverShows(t *testing.T) {
	s := Secret("hunter2-very-secret")
	js, err := json.Marshal(struct{ P Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v", s, s, s, s, s, s), string(js)} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "[redacted]") {
			t.Errorf("secret shown: %s", out)
		}
	}
	if got := s.Scrub("bind failed for hunter2-very-secret!"); got != "bind failed for [redacted]!" {
		t.Errorf("Scrub = %q", got)
	}
	if s.Reveal() != "hunter2-very-secret" {
		t.Error("Reveal lost the value")
	}
}
