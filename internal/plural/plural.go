// Package plural words counts for people: "1 user has", "3 users have".
package plural

import "fmt"

// Count renders n with the singular or plural form that follows it, for
// findings and details people read: Count(1, "user has", "users have") is
// "1 user has", Count(3, ...) "3 users have".
func Count[N ~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
