// Package claimtest builds valid claims for tests.
package claimtest

import (
	"time"

	"github.com/google/uuid"

	"github.com/cpor-claims/claims/shared/claim"
)

// PDF is the start of a real PDF document (enough for type sniffing).
var PDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// Complete returns a Draft with every field submit requires, for a
// Microsoft 365 Teams claim, and one evidence entry (not yet uploaded).
func Complete(partnerID, tenantID string, at time.Time) *claim.Claim {
	at = at.UTC()
	return &claim.Claim{
		ID: uuid.Must(uuid.NewV7()).String(), Status: claim.StatusDraft, Version: 1,
		Name: "Contoso Teams rollout", MPNID: "1234567", PartnerID: partnerID, PartnerName: "Fabrikam Partners <Ltd>",
		CreatedBy:    "user-1",
		Customer:     claim.Customer{TenantID: tenantID, Domain: "contoso.onmicrosoft.com", Name: "Contoso <script>alert(1)</script>"},
		SolutionArea: claim.Microsoft365, Activity: claim.ActivityUsage,
		Products:        []claim.ProductRef{{ID: "teams"}},
		CustomerContact: &claim.Contact{Name: "Ana Silva", Title: "CIO", Email: "ana@contoso.example"},
		PartnerContact:  &claim.PartnerContact{Name: "Pat Partner", Email: "pat@fabrikam.example"},
		Evidence: []claim.Evidence{{
			ID: uuid.Must(uuid.NewV7()).String(), FileName: "sow.pdf", ContentType: "application/pdf",
			Size: int64(len(PDF)), AddedAt: at,
		}},
		CreatedAt: at, UpdatedAt: at,
	}
}
