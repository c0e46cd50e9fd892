package validation

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the validation worker uses: *store.Store, or in
// tests the same store on the in-memory DynamoDB of local/memdb.
type Store interface {
	Commit(ctx context.Context, ch store.Change) error
	DeclinedUntil(ctx context.Context, tenantID, partnerID string, products []string, now time.Time) (time.Time, []string, error)
	Get(ctx context.Context, id string) (*claim.Claim, error)
	HeldByOther(ctx context.Context, c *claim.Claim) (bool, error)
	History(ctx context.Context, id string) ([]claim.Event, error)
	MarkNotified(ctx context.Context, c *claim.Claim, at time.Time) error
	MarkPartnerNotified(ctx context.Context, c *claim.Claim, at time.Time) error
	TokenOp(t store.Token) (store.Op, error)
}

var _ Store = (*store.Store)(nil)
