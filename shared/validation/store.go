package validation

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the validation worker uses:
// *store.Store, or in tests the same store on the in-memory DynamoDB of
// local/memdb.
type Store interface {
	store.Claims // each decision's transition (store.Transition)
	notice.Store // the partner's notice of a rejection
	DeclinedUntil(ctx context.Context, tenantID, partnerID string, products []string, now time.Time) (time.Time, []string, error)
	HeldByOther(ctx context.Context, c *claim.Claim) (bool, error)
	History(ctx context.Context, id string) ([]claim.Event, error)
	MarkNotified(ctx context.Context, c *claim.Claim, at time.Time) error
	TokenOp(t store.Token) (store.Op, error)
}

var _ Store = (*store.Store)(nil)
