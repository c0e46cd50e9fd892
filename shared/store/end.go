package store

import (
	"context"
	"slices"
	"strings"

	"github.com/cpor-claims/claims/shared/claim"
)

// SubscriptionHolders returns the ids of the claims holding subscription
// subscriptionID of tenantID on its own (a SUB# unit; a whole product's
// WORKLOAD unit is not ended by one subscription): the units of every
// per-subscription product of the catalog for that tenant, read in one
// BatchGetItem (no Scan, no read per claim).
func (s *Store) SubscriptionHolders(ctx context.Context, tenantID, subscriptionID string) ([]string, error) {
	tenantID, subscriptionID = strings.ToLower(tenantID), strings.ToLower(subscriptionID)
	var probe []*claim.Claim
	for _, p := range claim.Catalog() {
		if p.AssociationUnit == claim.UnitSubscription {
			probe = append(probe, &claim.Claim{
				Customer: claim.Customer{TenantID: tenantID},
				Products: []claim.ProductRef{{ID: p.ID, SubscriptionID: subscriptionID}},
			})
		}
	}
	h, err := s.AssociationsOf(ctx, probe)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range probe {
		k := claim.AssociationKeys(c)[0]
		it, _ := h.get(k.ItemKey(), k.UnitSK())
		if id := strAttr(it, attrClaimID); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
