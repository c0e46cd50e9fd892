package optout

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the opt-out and decline pages use: *store.Store, or in
// tests the same store on the in-memory DynamoDB of local/memdb.
type Store interface {
	Commit(ctx context.Context, ch store.Change) error
	DeclinedOps(d store.Declined) ([]store.Op, error)
	End(ctx context.Context, ch store.Change) error
	Get(ctx context.Context, id string) (*claim.Claim, error)
	GetToken(ctx context.Context, hash string, at time.Time) (*store.Token, error)
	MarkPartnerNotified(ctx context.Context, c *claim.Claim, at time.Time) error
}

var _ Store = (*store.Store)(nil)
