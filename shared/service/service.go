// Package service holds the partner operations on claims (create, edit,
// evidence, submit, respond, withdraw, dispute, reads), independent of HTTP:
// typed inputs in, claims or typed errors out. shared/api maps them to the
// HTTP contract.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

// Errors of the service beside those of claim and store.
var (
	ErrForbidden           = errors.New("forbidden")
	ErrIdempotencyConflict = errors.New("idempotency key reused with another request")
	ErrVersionMismatch     = errors.New("If-Match names another version")
	// ErrNotYourMPN: the claim is the caller's partner's, but its MPN ID is
	// not one of the caller's mpn_ids. It is an ErrForbidden.
	ErrNotYourMPN = fmt.Errorf("%w: the claim's MPN ID is not one of yours", ErrForbidden)
)

// Caller is the authenticated partner user.
type Caller struct {
	Sub         string
	PartnerID   string
	PartnerName string
	MPNIDs      []string
	Admin       bool
}

func (c Caller) actor() claim.Actor { return claim.Actor{Type: claim.ActorPartner, ID: c.Sub} }

// RequireAdmin is nil for an IncentivesAdmin, else ErrForbidden. Every
// write checks it; the HTTP edge checks it first, before reading a body.
func (c Caller) RequireAdmin() error {
	if !c.Admin {
		return fmt.Errorf("%w: writes need the IncentivesAdmin role", ErrForbidden)
	}
	return nil
}

// Evidence is the evidence bucket as the service uses it.
type Evidence interface {
	PresignUpload(ctx context.Context, key, contentType string, size int64, now time.Time) (evidence.Upload, error)
	Stat(ctx context.Context, key string) (evidence.Object, error)
	Delete(ctx context.Context, keys ...string) error
	TemplateURL(ctx context.Context) (string, error)
}

// Jobs queues validation jobs.
type Jobs interface {
	Send(ctx context.Context, j queue.Job) error
}

var (
	_ Evidence = (*evidence.Bucket)(nil)
	_ Jobs     = (*queue.Queue)(nil)
)

// Service runs the partner operations.
type Service struct {
	Store    Store
	Evidence Evidence
	Jobs     Jobs
	Log      *slog.Logger
	NewID    func() string
}

// New returns a service; NewID defaults to UUIDv7 (time-ordered ids).
func New(st Store, ev Evidence, jobs Jobs, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{Store: st, Evidence: ev, Jobs: jobs, Log: log, NewID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}

// NotFoundFirst returns the claim's ErrNotFound when id is not a claim of
// the caller's partner, ErrNotYourMPN when its MPN ID is not one of the
// caller's, else err: an input error (a body, a query string) of a write is
// answered only about claims the caller may change, so a probe learns
// nothing from it (401, 403, 404, 403 for the MPN, then the body).
func (s *Service) NotFoundFirst(ctx context.Context, caller Caller, id string, err error) error {
	if _, gerr := s.getForWrite(ctx, caller, id); gerr != nil {
		return gerr
	}
	return err
}

// getForWrite reads a claim the caller may change: its partner's
// (ErrNotFound otherwise) and for one of the caller's MPN IDs
// (ErrNotYourMPN otherwise).
func (s *Service) getForWrite(ctx context.Context, caller Caller, id string) (*claim.Claim, error) {
	c, err := s.get(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if err := caller.mayWrite(c); err != nil {
		return nil, err
	}
	return c, nil
}

// mayWrite is nil when the claim's MPN ID is one of the caller's mpn_ids:
// a user of a partner acts only for the partner locations its token names.
func (c Caller) mayWrite(cl *claim.Claim) error {
	if !slices.Contains(c.MPNIDs, cl.MPNID) {
		return fmt.Errorf("claim %s: %w", cl.ID, ErrNotYourMPN)
	}
	return nil
}

// get reads a claim of the caller's partner; another partner's claim is not
// found, so ids leak nothing.
func (s *Service) get(ctx context.Context, caller Caller, id string) (*claim.Claim, error) {
	c, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := caller.owns(c); err != nil {
		return nil, err
	}
	return c, nil
}

// owns is nil when c is the caller's partner's claim, else ErrNotFound
// (never forbidden: ids leak nothing).
func (c Caller) owns(cl *claim.Claim) error {
	if cl.PartnerID != c.PartnerID {
		return fmt.Errorf("claim %s: %w", cl.ID, store.ErrNotFound)
	}
	return nil
}

// change moves claim id by step (store.Transition) as the caller: every
// fresh read must be a claim the caller may change (getForWrite's rules)
// and, with ifMatch, at the version pinned. A refused commit is read again
// like any other, so a racing writer that had not committed
// (TransactionConflict) or that lost is retried, and ErrVersionMismatch
// comes only from a version that truly differs.
func (s *Service) change(ctx context.Context, caller Caller, id string, ifMatch *int64, step store.Step) (*claim.Claim, error) {
	check := step.Check
	step.Check = func(cur *claim.Claim) error {
		if err := caller.owns(cur); err != nil {
			return err
		}
		if err := caller.mayWrite(cur); err != nil {
			return err
		}
		if ifMatch != nil && *ifMatch != cur.Version {
			return fmt.Errorf("%w: claim is at version %d", ErrVersionMismatch, cur.Version)
		}
		if check != nil {
			return check(cur)
		}
		return nil
	}
	step.Actor = caller.actor()
	return store.Transition(ctx, s.Store, id, step)
}
