package claim

import "strings"

// AssociationKey is what one of a claim's products would take: a tenant's
// workload (Microsoft 365, SubscriptionID empty), one subscription of a
// tenant's product (Business Applications), or, with SubscriptionID empty on
// a per-subscription product, all the tenant's subscriptions of that
// product. Ids are lowercase.
type AssociationKey struct {
	TenantID       string
	ProductID      string
	SubscriptionID string
}

// AssociationKeys lists the keys a claim takes, one per product, in the
// claim's product order.
func AssociationKeys(c *Claim) []AssociationKey {
	tenant := strings.ToLower(c.Customer.TenantID)
	keys := make([]AssociationKey, 0, len(c.Products))
	for _, p := range c.Products {
		keys = append(keys, AssociationKey{
			TenantID: tenant, ProductID: p.ID, SubscriptionID: strings.ToLower(p.SubscriptionID),
		})
	}
	return keys
}

// ItemKey names the partition of the key's tenant and product,
// "<tenantId>#<productId>" (DESIGN.md "Association items (v2)"): it holds one
// item per held unit, the whole workload or product (UnitSK "WORKLOAD") and
// each single subscription ("SUB#<subscriptionId>").
func (k AssociationKey) ItemKey() string { return k.TenantID + "#" + k.ProductID }

// Unit sort keys of an association partition.
const (
	WorkloadSK  = "WORKLOAD"
	SubSKPrefix = "SUB#"
)

// UnitSK is the sort key of the unit the key takes: WORKLOAD for a whole
// workload or product, SUB#<subscriptionId> for one subscription.
func (k AssociationKey) UnitSK() string {
	if k.SubscriptionID == "" {
		return WorkloadSK
	}
	return SubSKPrefix + k.SubscriptionID
}

// Conflicts reports whether a partner other than partnerID holds what k asks
// for (API.md "Association"), given the holders of the partition's units:
// holderWorkload holds the whole workload or product (set by an approved
// claim without subscriptionId; "" for nobody) and holderSubs maps
// subscription ids to their holders (nil for none).
//
//   - a whole workload or product (no SubscriptionID) conflicts with another
//     partner holding it or any of its subscriptions;
//   - one subscription conflicts with another partner holding it or the
//     whole product.
//
// What partnerID itself holds never conflicts: re-association is allowed.
func Conflicts(holderWorkload string, holderSubs map[string]string, k AssociationKey, partnerID string) bool {
	if heldByOther(holderWorkload, partnerID) {
		return true
	}
	if k.SubscriptionID != "" {
		return heldByOther(holderSubs[k.SubscriptionID], partnerID)
	}
	for _, h := range holderSubs {
		if heldByOther(h, partnerID) {
			return true
		}
	}
	return false
}

func heldByOther(holder, partnerID string) bool { return holder != "" && holder != partnerID }
