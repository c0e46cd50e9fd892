package mail

import (
	"context"
	"strconv"

	"github.com/cpor-claims/claims/shared/claim"
)

func partnerName(c *claim.Claim) string {
	if c.PartnerName != "" {
		return c.PartnerName
	}
	return c.PartnerID
}

// CustomerNotice is the customer's email: which partner, which products,
// which tenant and domain, until when, and the opt-out link.
func (m *Mailer) CustomerNotice(c *claim.Claim, link string) (Message, error) {
	var contact, to string
	if c.CustomerContact != nil {
		contact, to = c.CustomerContact.Name, c.CustomerContact.Email
	}
	n := customerNotice{
		PartnerName: partnerName(c), ContactName: contact, CustomerName: c.Customer.Name,
		Domain: c.Customer.Domain, TenantID: c.Customer.TenantID, Products: claim.ProductLabels(c),
		Deadline: m.date(*c.OptOutDeadline), Link: link,
	}
	msg, err := m.message(to, customerNoticeSubject(n), customerNoticeText(n), customerNoticeHTML(n))
	// Which claim and which notification (the claim's version when it was
	// notified): SES's bounce and complaint events carry them back.
	msg.Tags = map[string]string{TagClaimID: c.ID, TagNotification: strconv.FormatInt(c.Version, 10)}
	return msg, err
}

// outcomes are how a decided status reads in the partner's email.
var outcomes = map[claim.Status]string{
	claim.StatusApproved:  "approved",
	claim.StatusRejected:  "rejected",
	claim.StatusOptedOut:  "closed: the customer opted out",
	claim.StatusWithdrawn: "withdrawn",
}

// PartnerNotice is the partner contact's email for a claim that needs more
// information (with its respond-by date) or was decided. ok is false when
// the status calls for no email or the claim has no partner contact.
func (m *Mailer) PartnerNotice(c *claim.Claim) (msg Message, ok bool, err error) {
	if c.PartnerContact == nil || c.PartnerContact.Email == "" {
		return Message{}, false, nil
	}
	reason := ""
	if c.StatusReason != nil {
		reason = c.StatusReason.Message
	}
	n := partnerNotice{
		ContactName: c.PartnerContact.Name, ClaimName: c.Name, ClaimID: c.ID,
		Domain: c.Customer.Domain, Reason: reason,
	}
	to := c.PartnerContact.Email
	switch {
	case c.Status == claim.StatusNeedsInfo && c.RespondBy != nil:
		n.RespondBy = m.date(*c.RespondBy)
		msg, err = m.message(to, partnerNeedsInfoSubject(n), partnerNeedsInfoText(n), partnerNeedsInfoHTML(n))
	case outcomes[c.Status] != "":
		n.Outcome = outcomes[c.Status]
		msg, err = m.message(to, partnerDecidedSubject(n), partnerDecidedText(n), partnerDecidedHTML(n))
	default:
		return Message{}, false, nil
	}
	return msg, err == nil, err
}

// NotifyPartner renders and sends the partner's notice, if the status calls
// for one.
func (m *Mailer) NotifyPartner(ctx context.Context, c *claim.Claim) error {
	msg, ok, err := m.PartnerNotice(c)
	if err != nil || !ok {
		return err
	}
	_, err = m.Send(ctx, msg)
	return err
}
