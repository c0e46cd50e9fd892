package service

import (
	"context"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

// maxStatementLen bounds respond comments and dispute reasons.
const maxStatementLen = 4000

// Submit locks a complete Draft (Submitted) and queues its validation.
func (s *Service) Submit(ctx context.Context, caller Caller, id string, now time.Time) (*claim.Claim, error) {
	return s.toValidation(ctx, caller, id, claim.ActionSubmitted, now, nil)
}

// Respond answers a NeedsInfo request with a comment (and any evidence added
// since): the claim goes back to Submitted and is validated again.
func (s *Service) Respond(ctx context.Context, caller Caller, id, comment string, now time.Time) (*claim.Claim, error) {
	comment, err := statement("comment", comment, maxStatementLen)
	if err != nil {
		return nil, s.NotFoundFirst(ctx, caller, id, err)
	}
	return s.toValidation(ctx, caller, id, claim.ActionResponded, now, map[string]string{"comment": comment})
}

// Dispute contests a rejection within 30 days: back to Submitted and
// validated again.
func (s *Service) Dispute(ctx context.Context, caller Caller, id, reason string, now time.Time) (*claim.Claim, error) {
	reason, err := statement("reason", reason, maxStatementLen)
	if err != nil {
		return nil, s.NotFoundFirst(ctx, caller, id, err)
	}
	return s.toValidation(ctx, caller, id, claim.ActionDisputed, now, map[string]string{"reason": reason})
}

// Withdraw ends a claim at the partner's request.
func (s *Service) Withdraw(ctx context.Context, caller Caller, id string, now time.Time) (*claim.Claim, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	return s.change(ctx, caller, id, nil, store.Step{Action: claim.ActionWithdrawn, At: now,
		Edit: func(c *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			c.OptOutDeadline = nil
			c.StatusReason = &claim.StatusReason{Code: claim.ReasonWithdrawn, Message: "Withdrawn at the partner's request."}
			return nil, nil
		}})
}

// toValidation moves a claim to Submitted (submit, respond, dispute) in one
// transaction, then queues its validation job. If queueing fails the claim
// is still Submitted: the due-deadline index lists it once its job is
// overdue and the scheduled run queues it again, so no claim is stranded.
func (s *Service) toValidation(ctx context.Context, caller Caller, id string, action claim.Action, now time.Time, detail map[string]string) (*claim.Claim, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	seen := map[string]stat{} // storage's answers, kept across the transition's attempts
	c, err := s.change(ctx, caller, id, nil, store.Step{Action: action, At: now, Detail: detail,
		Check: func(c *claim.Claim) error {
			if _, err := claim.Next(c.Status, action); err != nil {
				return err
			}
			switch action {
			case claim.ActionDisputed:
				return claim.CheckDispute(c, now)
			case claim.ActionResponded:
				// Past respondBy the answer is late, even before the
				// scheduled run rejects the claim (no_response).
				return claim.CheckRespond(c, now)
			}
			return nil
		},
		Edit: func(c *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			if err := s.refreshUploads(ctx, c, seen); err != nil {
				return nil, err
			}
			return nil, claim.ValidateComplete(c)
		}})
	if err != nil {
		return nil, err
	}
	if err := s.Jobs.Send(ctx, queue.Job{ClaimID: c.ID, Version: c.Version}); err != nil {
		s.Log.ErrorContext(ctx, "validation job not queued; the scheduled run will queue it again", "claimId", c.ID, "error", err)
	}
	return c, nil
}

// statement checks a required free text of at most max characters (a
// respond comment, a dispute or disassociation reason), trimmed.
func statement(field, text string, max int) (string, error) {
	t := trimmed(text)
	if fe := claim.ValidateText(field, t, max, true); fe != nil {
		return "", &claim.ValidationError{Kind: claim.KindInvalid, Errors: []claim.FieldError{*fe}}
	}
	if t == "" {
		return "", &claim.ValidationError{Kind: claim.KindInvalid, Errors: []claim.FieldError{{Field: field, Message: "is required"}}}
	}
	return t, nil
}
