package optout

import (
	"context"

	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the opt-out and decline pages use:
// *store.Store, or in tests the same store on the in-memory DynamoDB of
// local/memdb.
type Store interface {
	ending.Store // the opt-out's transition, the decline's end, the partner's notice
	DeclinedOps(d store.Declined) ([]store.Op, error)
	GetToken(ctx context.Context, hash string) (*store.Token, error)
}

var _ Store = (*store.Store)(nil)
