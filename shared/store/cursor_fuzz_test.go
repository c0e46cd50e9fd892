package store_test

import (
	"errors"
	"testing"

	"github.com/cpor-claims/claims/shared/store"
)

// FuzzDecodeCursor: a cursor that comes back from a client either decodes
// to a well-formed position that encodes back to itself for the same
// listing, or is refused with ErrInvalidCursor; one accepted for a listing
// is refused for any other; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	scope := store.CursorScope("p1", store.ListQuery{Status: "Draft"})
	f.Add(store.EncodeCursor(scope, "2026-11-24T10:00:00.000000000Z", "01a20d0c-0000-7000-8000-000000000001"))
	f.Add("")
	f.Add("eyJjIjoieCJ9")
	f.Add("%%%")
	f.Add(store.EncodeCursor(scope, "2026-11-24T10:00:00.000000000Z", "../../etc"))
	f.Add(store.EncodeCursor(store.CursorScope("p2", store.ListQuery{}), "2026-11-24T10:00:00.000000000Z", "01a20d0c-0000-7000-8000-000000000001"))
	f.Fuzz(func(t *testing.T, s string) {
		created, id, err := store.DecodeCursor(scope, s)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidCursor) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if again, _, err := store.DecodeCursor(scope, store.EncodeCursor(scope, created, id)); err != nil || again != created {
			t.Fatalf("accepted %q but its position does not round-trip: %v", s, err)
		}
		if _, _, err := store.DecodeCursor(store.CursorScope("p2", store.ListQuery{Status: "Draft"}), s); err == nil {
			t.Fatalf("cursor %q accepted for another partner's listing", s)
		}
	})
}
