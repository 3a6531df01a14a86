package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 users have"}, {1, "1 user has"}, {2, "2 users have"}, {11, "11 users have"}} {
		if got := Count(tc.n, "user has", "users have"); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
