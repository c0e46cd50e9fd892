package claim

import "strings"

// AssociationKey is what a claim's product would take: a tenant's workload
// (Microsoft 365), or a tenant's product subscription (Business
// Applications). An empty SubscriptionID on a per-subscription product means
// all the tenant's subscriptions of that product.
type AssociationKey struct {
	TenantID       string
	ProductID      string
	SubscriptionID string
}

// AssociationKeys lists the keys a claim takes, one per product.
func AssociationKeys(c *Claim) []AssociationKey {
	keys := make([]AssociationKey, 0, len(c.Products))
	for _, p := range c.Products {
		keys = append(keys, AssociationKey{
			TenantID: strings.ToLower(c.Customer.TenantID), ProductID: p.ID, SubscriptionID: strings.ToLower(p.SubscriptionID),
		})
	}
	return keys
}

// ItemKey names the association item of the key's tenant and product (the
// subscriptions are held inside it).
func (k AssociationKey) ItemKey() string { return k.TenantID + "#" + k.ProductID }

// Conflicts reports whether another partner than partnerID holds what key
// asks for (API.md "Association"), given the item's holder of the whole
// workload or product and its holders by subscription.
func Conflicts(holderWorkload string, holderSubs map[string]string, k AssociationKey, partnerID string) bool {
	if holderWorkload != "" && holderWorkload != partnerID {
		return true
	}
	if k.SubscriptionID != "" {
		h, ok := holderSubs[k.SubscriptionID]
		return ok && h != partnerID
	}
	for _, h := range holderSubs {
		if h != partnerID {
			return true
		}
	}
	return false
}
