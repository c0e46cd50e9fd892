package store_test

import (
	"errors"
	"testing"

	"github.com/cpor-claims/claims/shared/store"
)

// FuzzDecodeCursor: a cursor that comes back from a client either decodes
// to a well-formed position that encodes back to itself, or is refused with
// ErrInvalidCursor; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(store.EncodeCursor("2026-11-24T10:00:00.000000000Z", "01a20d0c-0000-7000-8000-000000000001"))
	f.Add("")
	f.Add("eyJjIjoieCJ9")
	f.Add("%%%")
	f.Add(store.EncodeCursor("2026-11-24T10:00:00.000000000Z", "../../etc"))
	f.Fuzz(func(t *testing.T, s string) {
		created, id, err := store.DecodeCursor(s)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidCursor) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if again, _, err := store.DecodeCursor(store.EncodeCursor(created, id)); err != nil || again != created {
			t.Fatalf("accepted %q but its position does not round-trip: %v", s, err)
		}
	})
}
