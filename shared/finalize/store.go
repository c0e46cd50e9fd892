package finalize

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the scheduled run uses:
// *store.Store, or in tests the same store on the in-memory DynamoDB of
// local/memdb.
type Store interface {
	store.Claims // each decision's transition (store.Transition)
	notice.Store // the partner's notice of a decision
	ApprovalOps(ctx context.Context, next *claim.Claim, at time.Time, known *store.Holdings) ([]store.Op, error)
	AssociationsOf(ctx context.Context, claims []*claim.Claim) (*store.Holdings, error)
	CommitGroup(ctx context.Context, changes []store.Change) []error
	Defer(ctx context.Context, c *claim.Claim, until time.Time) error
	Due(ctx context.Context, now time.Time, pageSize int32, fn func([]*claim.Claim) error) error
	MarkPartnersNotified(ctx context.Context, cs []*claim.Claim, at time.Time) []error
	MarkRequeued(ctx context.Context, c *claim.Claim, now time.Time) error
	TokenOp(t store.Token) (store.Op, error)
}

var _ Store = (*store.Store)(nil)
