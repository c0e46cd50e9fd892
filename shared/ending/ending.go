// Package ending ends approved associations (v2): the partner
// disassociates, the customer declines, or the subscription ends. Each end
// is one transaction: the claim Approved -> Ended under its status and
// version, its history event, and the release of every association unit it
// holds (End). The units are free for any partner from that moment.
package ending

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// End ends claim id's association through action at now, in ONE
// transaction (store.Transition): the claim Approved -> Ended under its
// status and version, its history event, and the release of every
// association unit it holds (store.HeldUnits, store.EndOps), each under the
// condition that it still names the claim. Either the claim ended and its
// units are free, or nothing changed; a unit that changed meanwhile is a
// lost race, read again. check runs on every fresh read before the
// transition (ownership, the caller's MPN ID); its error is returned as is.
// It returns the claim as committed, or a *claim.TransitionError when the
// claim is not (or no longer) Approved: exactly one of several racing ends
// commits, the others see Ended.
func End(ctx context.Context, st Store, id string, action claim.Action, actor claim.Actor,
	now time.Time, detail map[string]string, check func(*claim.Claim) error) (*claim.Claim, error) {
	if !claim.Ends(action) {
		return nil, &claim.TransitionError{Action: action, Reason: "not an end of an association"}
	}
	c, err := store.Transition(ctx, st, id, store.Step{
		Action: action, Actor: actor, At: now, Detail: detail, Check: check,
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			units, err := st.HeldUnits(ctx, next)
			return store.EndOps(units), err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("end claim %s (%s): %w", id, action, err)
	}
	return c, nil
}

// Mailer sends the emails an end calls for.
type Mailer interface {
	notice.Sender
	// NotifyCustomerEnded tells the customer contact that the partner ended
	// the association.
	NotifyCustomerEnded(ctx context.Context, c *claim.Claim) error
}

// Notify sends, once the end committed, the partner contact's notice (due
// until sent: the scheduled run retries a refused one) and, when the
// partner disassociated, the customer contact's email. Only the end that
// committed sends them, so racing ends email each recipient once.
func Notify(ctx context.Context, st Store, m Mailer, c *claim.Claim, now time.Time, log *slog.Logger) {
	if c.Status != claim.StatusEnded {
		return
	}
	if c.StatusReason != nil && c.StatusReason.Code == claim.ReasonPartnerDisassociated &&
		c.CustomerContact != nil && c.CustomerContact.Email != "" {
		if err := m.NotifyCustomerEnded(ctx, c); err != nil {
			log.ErrorContext(ctx, "customer's email about the ended association not sent", "claimId", c.ID, "error", err)
		}
	}
	_ = notice.Partner(ctx, st, m, c, now, log)
}
