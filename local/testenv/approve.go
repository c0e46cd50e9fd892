package testenv

import (
	"context"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Approve commits an approval a test prepared (ch: the claim moved to
// Approved from ch.ExpectVersion) with the units of all its products, all
// or nothing, the way finalize approves one claim: store.Transition pinned
// to that version, the units from store.ApprovalOps (as known has them
// when it covers them, else read; a retry reads them again). It fails with
// store.ErrAssociationHeld when another partner holds any of them.
func Approve(ctx context.Context, st *store.Store, ch store.Change, known *store.Holdings) error {
	_, err := store.Transition(ctx, st, ch.Claim.ID, store.Step{
		Action: ch.Event.Action, Actor: ch.Event.Actor, At: ch.Event.At, Detail: ch.Event.Detail,
		AtVersion: ch.ExpectVersion, Unnotified: ch.Unnotified,
		Edit: func(next *claim.Claim, ev *claim.Event) ([]store.Op, error) {
			*next, *ev = *ch.Claim, ch.Event // prepared from this very version
			ops, err := st.ApprovalOps(ctx, next, ev.At, known)
			known = nil // a retry reads the units again
			return append(append([]store.Op(nil), ch.Ops...), ops...), err
		},
	})
	return err
}
