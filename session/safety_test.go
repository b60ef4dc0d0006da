package session

import (
	"regexp"
	"testing"
)

func TestSafetyNumberShape(t *testing.T) {
	a, b, c := []byte("alice-key-1"), []byte("bob-key-1"), []byte("bob-key-2")
	n := safetyNumber([][]byte{a, b})
	if !regexp.MustCompile(`^\d{5}( \d{5}){11}$`).MatchString(n) {
		t.Fatalf("safety number %q is not 12 groups of 5 digits", n)
	}
	tests := []struct {
		name string
		keys [][]byte
		same bool
	}{
		{"the other side's order", [][]byte{b, a}, true},
		{"a new device", [][]byte{a, b, c}, false},
		{"a changed key", [][]byte{a, c}, false},
		// Length prefixes: moving a byte from one key to the next changes it.
		{"split differently", [][]byte{[]byte("alice-key-"), []byte("1bob-key-1")}, false},
	}
	for _, tc := range tests {
		if got := safetyNumber(tc.keys); (got == n) != tc.same {
			t.Errorf("%s: %q vs %q, want same=%v", tc.name, got, n, tc.same)
		}
	}
}
