// Package ending ends approved associations (v2): the partner
// disassociates, the customer declines, or the subscription ends. Each end
// is one transaction: the claim Approved -> Ended under its status and
// version, its history event, and the release of every association unit it
// holds (store.End). The units are free for any partner from that moment.
package ending

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// maxAttempts bounds re-reads when the claim or one of its units changes
// between read and write (a racing end, an approval of a freed unit).
const maxAttempts = 8

// End ends claim id's association through action at now. check runs on
// every fresh read before the transition (ownership, the caller's MPN ID);
// its error is returned as is. It returns the claim as committed, or a
// *claim.TransitionError when the claim is not (or no longer) Approved:
// exactly one of several racing ends commits, the others see Ended.
func End(ctx context.Context, st *store.Store, id string, action claim.Action, actor claim.Actor,
	now time.Time, detail map[string]string, check func(*claim.Claim) error) (*claim.Claim, error) {
	for attempt := 1; ; attempt++ {
		cur, err := st.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return nil, err
			}
		}
		next := *cur
		ev, err := claim.End(&next, action, actor, now, detail)
		if err != nil {
			return nil, err
		}
		err = st.End(ctx, store.Change{Claim: &next, ExpectStatus: cur.Status, ExpectVersion: cur.Version, Event: ev})
		switch {
		case err == nil:
			return &next, nil
		case errors.Is(err, store.ErrVersionConflict) && attempt < maxAttempts:
			wait(ctx, attempt)
			continue
		default:
			return nil, fmt.Errorf("end claim %s (%s): %w", id, action, err)
		}
	}
}

func wait(ctx context.Context, attempt int) {
	d := time.Duration(attempt*attempt)*2*time.Millisecond + time.Duration(rand.IntN(10))*time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
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
func Notify(ctx context.Context, st *store.Store, m Mailer, c *claim.Claim, now time.Time, log *slog.Logger) {
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
