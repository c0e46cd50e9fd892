package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
)

// ClaimColumns are the CSV export's columns of a claim: its JSON fields,
// nested ones flattened with dotted names, products as id or
// id:subscriptionId joined by ";" (API.md). Evidence files are not
// exported: they are listed on the claim itself.
var ClaimColumns = []string{
	"id", "status", "version", "name", "mpnId", "partnerId",
	"customer.tenantId", "customer.domain", "customer.name",
	"solutionArea", "activity", "products",
	"customerContact.name", "customerContact.title", "customerContact.email",
	"technicalContact.name", "technicalContact.title", "technicalContact.email",
	"partnerContact.name", "partnerContact.email",
	"revenue.solutionSellerName", "revenue.customerName", "revenue.isvProductName",
	"comments", "optOutDeadline", "respondBy", "statusReason.code", "statusReason.message",
	"createdAt", "updatedAt", "submittedAt", "decidedAt", "endedAt",
}

// ClaimRow is c's CSV row, in ClaimColumns' order.
func ClaimRow(c *claim.Claim) []string {
	var cc claim.Contact
	if c.CustomerContact != nil {
		cc = *c.CustomerContact
	}
	var tc claim.Contact
	if c.TechnicalContact != nil {
		tc = *c.TechnicalContact
	}
	var pc claim.PartnerContact
	if c.PartnerContact != nil {
		pc = *c.PartnerContact
	}
	var rev claim.Revenue
	if c.Revenue != nil {
		rev = *c.Revenue
	}
	var reason claim.StatusReason
	if c.StatusReason != nil {
		reason = *c.StatusReason
	}
	return []string{
		c.ID, string(c.Status), strconv.FormatInt(c.Version, 10), c.Name, c.MPNID, c.PartnerID,
		c.Customer.TenantID, c.Customer.Domain, c.Customer.Name,
		string(c.SolutionArea), string(c.Activity), ProductsCell(c.Products),
		cc.Name, cc.Title, cc.Email,
		tc.Name, tc.Title, tc.Email,
		pc.Name, pc.Email,
		rev.SolutionSellerName, rev.CustomerName, rev.ISVProductName,
		c.Comments, timeCell(c.OptOutDeadline), timeCell(c.RespondBy), reason.Code, reason.Message,
		timeCell(&c.CreatedAt), timeCell(&c.UpdatedAt), timeCell(c.SubmittedAt), timeCell(c.DecidedAt), timeCell(c.EndedAt),
	}
}

// ProductsCell is the products column: id, or id:subscriptionId, joined by ";".
func ProductsCell(ps []claim.ProductRef) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.SubscriptionID != "" {
			parts = append(parts, p.ID+":"+p.SubscriptionID)
			continue
		}
		parts = append(parts, p.ID)
	}
	return strings.Join(parts, ";")
}

// timeCell is an RFC 3339 UTC time, or empty.
func timeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
