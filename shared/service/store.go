package service

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/store"
)

// Store is the part of the claims table the partner operations use:
// *store.Store, or in tests the same store on the in-memory DynamoDB of
// local/memdb.
type Store interface {
	ending.Store // store.Claims for every transition, and the disassociation
	ClaimHistory(ctx context.Context, id string) (*claim.Claim, []claim.Event, error)
	Create(ctx context.Context, c *claim.Claim, ev claim.Event, ops ...store.Op) error
	DeleteDraft(ctx context.Context, id string, version int64) error
	GetIdempotency(ctx context.Context, partnerID, idemKey string, now time.Time) (*store.IdempotencyRecord, error)
	IdempotencyOp(r store.IdempotencyRecord, now time.Time) (store.Op, error)
	List(ctx context.Context, partnerID string, q store.ListQuery) (store.Page, error)
	// HeldBy: the registry read of the HTTP edge (shared/api), which
	// reaches the table through the service.
	HeldBy(ctx context.Context, partnerID string, q store.UnitQuery) (store.UnitPage, error)
}

var _ Store = (*store.Store)(nil)
