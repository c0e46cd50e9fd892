package ending

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the end of an association uses: *store.Store, or in
// tests the same store on the in-memory DynamoDB of local/memdb.
type Store interface {
	End(ctx context.Context, ch store.Change) error
	Get(ctx context.Context, id string) (*claim.Claim, error)
	MarkPartnerNotified(ctx context.Context, c *claim.Claim, at time.Time) error
}

var _ Store = (*store.Store)(nil)
