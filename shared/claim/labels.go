package claim

// ProductLabels names a claim's products for people (the customer's email
// and page): the catalog name, with the subscription when one is given.
func ProductLabels(c *Claim) []string {
	names := make([]string, 0, len(c.Products))
	for _, p := range c.Products {
		n := p.ID
		if prod, ok := LookupProduct(p.ID); ok {
			n = prod.Name
		}
		if p.SubscriptionID != "" {
			n += " (subscription " + p.SubscriptionID + ")"
		}
		names = append(names, n)
	}
	return names
}
