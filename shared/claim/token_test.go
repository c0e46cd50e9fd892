package claim

import "testing"

func TestOptOutTokens(t *testing.T) {
	a, ha := NewOptOutToken()
	b, hb := NewOptOutToken()
	if a == b || ha == hb {
		t.Fatal("two tokens are equal")
	}
	if len(a) != TokenLen || len(a) != 43 || len(ha) != 64 || !WellFormedToken(a) || HashToken(a) != ha {
		t.Fatalf("token %q hash %q", a, ha)
	}
	// The stored form is the hex SHA-256 of the token's text.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
	for _, bad := range []string{"", a[:42], a + "A", a[:42] + "!", a[:42] + "=", a[:42] + "/", a[:42] + "+"} {
		if WellFormedToken(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
