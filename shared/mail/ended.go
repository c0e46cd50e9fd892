package mail

import (
	"context"

	"github.com/cpor-claims/claims/shared/claim"
)

// CustomerEnded is the customer contact's email when the partner ended the
// association (disassociated): which partner, which products, which
// tenant, and the partner's reason.
func (m *Mailer) CustomerEnded(c *claim.Claim) (Message, error) {
	var contact, to string
	if c.CustomerContact != nil {
		contact, to = c.CustomerContact.Name, c.CustomerContact.Email
	}
	return m.Render("customer-ended", to, map[string]any{
		"PartnerName": partnerName(c), "ContactName": contact, "CustomerName": c.Customer.Name,
		"Domain": c.Customer.Domain, "TenantID": c.Customer.TenantID, "Products": claim.ProductLabels(c),
		"Reason": endReason(c),
	})
}

// endReason is the partner's reason for a disassociation, else the status
// reason's message.
func endReason(c *claim.Claim) string {
	if c.StatusReason != nil {
		return c.StatusReason.Message
	}
	return ""
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

// CustomerApproved is the customer contact's email when a claim is
// approved: which partner is now associated with which products of which
// tenant, and the link to end it at any time.
func (m *Mailer) CustomerApproved(c *claim.Claim, link string) (Message, error) {
	var contact, to string
	if c.CustomerContact != nil {
		contact, to = c.CustomerContact.Name, c.CustomerContact.Email
	}
	return m.Render("customer-approved", to, map[string]any{
		"PartnerName": partnerName(c), "ContactName": contact, "CustomerName": c.Customer.Name,
		"Domain": c.Customer.Domain, "TenantID": c.Customer.TenantID, "Products": claim.ProductLabels(c),
		"Link": link,
	})
}

// NotifyCustomerApproved renders and sends CustomerApproved.
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
