// Package notice emails the partner contact about a claim's status and
// records it on the claim. A notice is due from the moment its status is
// committed (the claim stays in the due index until it is marked sent), so
// one that SES refused, or that a crash cut off, is sent by the scheduled
// run later; one that was sent is marked and not sent again. The one
// window left: a crash after SES accepted the email and before the mark,
// and the scheduled run sends it a second time.
package notice

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Sender renders and sends the partner's notice for a claim's status.
type Sender interface {
	NotifyPartner(ctx context.Context, c *claim.Claim) error
}

// Partner sends the notice c's status calls for and marks it sent at now.
// It returns the error of either step, logged already: the notice stays
// due and the scheduled run tries again.
func Partner(ctx context.Context, st Store, m Sender, c *claim.Claim, now time.Time, log *slog.Logger) error {
	if !claim.NeedsPartnerNotice(c) || c.PartnerNotifiedAt != nil {
		return nil
	}
	if err := m.NotifyPartner(ctx, c); err != nil {
		log.ErrorContext(ctx, "partner notice not sent; the scheduled run sends it later", "claimId", c.ID, "error", err)
		return err
	}
	if err := st.MarkPartnerNotified(ctx, c, now); err != nil && !errors.Is(err, store.ErrVersionConflict) {
		log.ErrorContext(ctx, "partner notice sent but not marked; it may be sent again", "claimId", c.ID, "error", err)
		return err
	}
	return nil
}
