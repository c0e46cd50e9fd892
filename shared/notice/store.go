package notice

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table a partner notice uses: *store.Store, or in
// tests the same store on the in-memory DynamoDB of local/memdb.
type Store interface {
	MarkPartnerNotified(ctx context.Context, c *claim.Claim, at time.Time) error
}

var _ Store = (*store.Store)(nil)
