package claim

import (
	"slices"
	"testing"
)

func TestProductLabels(t *testing.T) {
	c := &Claim{Products: []ProductRef{
		{ID: "teams"},
		{ID: "dynamics-365-sales", SubscriptionID: "0f6e2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b"},
		{ID: "retired-product"},
	}}
	want := []string{
		"Microsoft Teams",
		"Dynamics 365 Sales (subscription 0f6e2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b)",
		"retired-product", // not in the catalog: its id stands in
	}
	if got := ProductLabels(c); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := ProductLabels(&Claim{}); len(got) != 0 {
		t.Errorf("no products: %q", got)
	}
}
