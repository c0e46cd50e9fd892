package ending

import (
	"context"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the end of an association uses:
// *store.Store, or in tests the same store on the in-memory DynamoDB of
// local/memdb.
type Store interface {
	store.Claims // the end's transition (store.Transition)
	notice.Store // the partner's notice once it ended
	HeldUnits(ctx context.Context, c *claim.Claim) ([]store.Unit, error)
}

var _ Store = (*store.Store)(nil)
