package service

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/ending"
)

// maxReasonLen bounds a disassociation's reason (API.md: 1-2000 characters).
const maxReasonLen = 2000

// Disassociate ends an Approved association at the partner's request: in
// one transaction the claim becomes Ended (partner_disassociated), its
// units are freed and the disassociated event (with the reason) is
// recorded. Only an IncentivesAdmin of the owning partner who may act for
// the claim's MPN ID.
func (s *Service) Disassociate(ctx context.Context, caller Caller, id, reason string, now time.Time) (*claim.Claim, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	t, err := statement("reason", reason, maxReasonLen)
	if err != nil {
		return nil, s.NotFoundFirst(ctx, caller, id, err)
	}
	return ending.End(ctx, s.Store, id, claim.ActionDisassociated, caller.actor(), now, map[string]string{"reason": t},
		func(c *claim.Claim) error {
			if err := caller.owns(c); err != nil {
				return err
			}
			return caller.mayWrite(c) // the claim's MPN ID among the caller's (403)
		})
}
