package claim

import (
	"slices"
	"testing"
)

func TestConflicts(t *testing.T) {
	const me, other = "partner-me", "partner-other"
	teams := AssociationKey{TenantID: "t", ProductID: "teams"}
	sub1 := AssociationKey{TenantID: "t", ProductID: "dynamics-365-sales", SubscriptionID: "s1"}
	allSubs := AssociationKey{TenantID: "t", ProductID: "dynamics-365-sales"}
	cases := []struct {
		name     string
		workload string
		subs     map[string]string
		key      AssociationKey
		want     bool
	}{
		// Microsoft 365: per workload.
		{"workload free", "", nil, teams, false},
		{"workload held by another partner", other, nil, teams, true},
		{"workload re-associated by its holder", me, nil, teams, false},

		// Per subscription, with a subscription id.
		{"subscription free", "", nil, sub1, false},
		{"subscription held by another partner", "", map[string]string{"s1": other}, sub1, true},
		{"subscription re-associated by its holder", "", map[string]string{"s1": me}, sub1, false},
		{"only another subscription held by another partner", "", map[string]string{"s2": other}, sub1, false},
		{"whole product held by another partner", other, nil, sub1, true},
		{"whole product held by us", me, nil, sub1, false},
		{"whole product ours, this subscription another's", me, map[string]string{"s1": other}, sub1, true},
		{"ours among others' subscriptions", "", map[string]string{"s1": me, "s2": other}, sub1, false},

		// Per subscription, without one: all the tenant's subscriptions.
		{"all subscriptions, nothing held", "", map[string]string{}, allSubs, false},
		{"all subscriptions, one held by another partner", "", map[string]string{"s9": other}, allSubs, true},
		{"all subscriptions, every one ours", "", map[string]string{"s1": me, "s9": me}, allSubs, false},
		{"all subscriptions, ours and another's", "", map[string]string{"s1": me, "s9": other}, allSubs, true},
		{"all subscriptions, whole product held by another partner", other, nil, allSubs, true},
		{"all subscriptions re-associated by the whole product's holder", me, map[string]string{"s1": me}, allSubs, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Conflicts(tc.workload, tc.subs, tc.key, me); got != tc.want {
				t.Fatalf("Conflicts = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAssociationKeys(t *testing.T) {
	c := &Claim{
		Customer: Customer{TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"},
		Products: []ProductRef{
			{ID: "teams"},
			{ID: "power-bi-pro", SubscriptionID: "0F6E2A3B-1C4D-4E5F-8A9B-0C1D2E3F4A5B"},
			{ID: "power-bi-pro"},
		},
	}
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	want := []AssociationKey{
		{TenantID: tenant, ProductID: "teams"},
		{TenantID: tenant, ProductID: "power-bi-pro", SubscriptionID: "0f6e2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b"},
		{TenantID: tenant, ProductID: "power-bi-pro"},
	}
	got := AssociationKeys(c)
	if !slices.Equal(got, want) {
		t.Fatalf("keys\n got %+v\nwant %+v", got, want)
	}
	items := []string{tenant + "#teams", tenant + "#power-bi-pro", tenant + "#power-bi-pro"}
	for i, k := range got {
		if k.ItemKey() != items[i] {
			t.Errorf("ItemKey(%+v) = %s, want %s", k, k.ItemKey(), items[i])
		}
	}
	if keys := AssociationKeys(&Claim{}); keys == nil || len(keys) != 0 {
		t.Errorf("a claim without products takes no keys: %#v", keys)
	}
}
