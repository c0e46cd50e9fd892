package mail

import (
	"context"

	"github.com/cpor-claims/claims/shared/claim"
)

func (m *Mailer) customerAssociation(c *claim.Claim) (customerAssociation, string) {
	n := customerAssociation{
		PartnerName: partnerName(c), CustomerName: c.Customer.Name, Domain: c.Customer.Domain,
		TenantID: c.Customer.TenantID, Products: claim.ProductLabels(c),
	}
	var to string
	if c.CustomerContact != nil {
		n.ContactName, to = c.CustomerContact.Name, c.CustomerContact.Email
	}
	return n, to
}

// CustomerApproved is the customer contact's email when a claim is
// approved: which partner is now associated with which products of which
// tenant, and the link to end it at any time.
func (m *Mailer) CustomerApproved(c *claim.Claim, link string) (Message, error) {
	n, to := m.customerAssociation(c)
	n.Link = link
	return m.message(to, customerApprovedSubject(n), customerApprovedText(n), customerApprovedHTML(n))
}

// NotifyCustomerApproved renders and sends CustomerApproved (nothing
// without a customer contact).
func (m *Mailer) NotifyCustomerApproved(ctx context.Context, c *claim.Claim, link string) error {
	if c.CustomerContact == nil || c.CustomerContact.Email == "" {
		return nil
	}
	msg, err := m.CustomerApproved(c, link)
	if err != nil {
		return err
	}
	_, err = m.Send(ctx, msg)
	return err
}

// CustomerEnded is the customer contact's email when the partner ended the
// association (disassociated): which partner, which products, which
// tenant, and the partner's reason (the status reason's message).
func (m *Mailer) CustomerEnded(c *claim.Claim) (Message, error) {
	n, to := m.customerAssociation(c)
	if c.StatusReason != nil {
		n.Reason = c.StatusReason.Message
	}
	return m.message(to, customerEndedSubject(n), customerEndedText(n), customerEndedHTML(n))
}

// NotifyCustomerEnded renders and sends CustomerEnded.
func (m *Mailer) NotifyCustomerEnded(ctx context.Context, c *claim.Claim) error {
	msg, err := m.CustomerEnded(c)
	if err != nil {
		return err
	}
	_, err = m.Send(ctx, msg)
	return err
}
