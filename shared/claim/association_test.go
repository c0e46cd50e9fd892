package claim

import "testing"

func TestConflicts(t *testing.T) {
	ws := AssociationKey{TenantID: "t", ProductID: "teams"}
	sub1 := AssociationKey{TenantID: "t", ProductID: "dynamics-365-sales", SubscriptionID: "s1"}
	all := AssociationKey{TenantID: "t", ProductID: "dynamics-365-sales"}
	cases := []struct {
		name     string
		workload string
		subs     map[string]string
		key      AssociationKey
		want     bool
	}{
		{"free workload", "", nil, ws, false},
		{"workload held by another", "other", nil, ws, true},
		{"workload held by us", "me", nil, ws, false},
		{"subscription held by another", "", map[string]string{"s1": "other"}, sub1, true},
		{"another subscription held by another", "", map[string]string{"s2": "other"}, sub1, false},
		{"subscription held by us", "", map[string]string{"s1": "me"}, sub1, false},
		{"whole product held by another, claim for one subscription", "other", nil, sub1, true},
		{"whole product claimed, one subscription held by another", "", map[string]string{"s9": "other"}, all, true},
		{"whole product claimed, subscriptions ours", "", map[string]string{"s9": "me"}, all, false},
	}
	for _, tc := range cases {
		if got := Conflicts(tc.workload, tc.subs, tc.key, "me"); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAssociationKeys(t *testing.T) {
	c := &Claim{Customer: Customer{TenantID: "AAAAAAAA-0000-0000-0000-000000000000"}, Products: []ProductRef{
		{ID: "teams"}, {ID: "power-bi-pro", SubscriptionID: "BBBBBBBB-0000-0000-0000-000000000000"}}}
	keys := AssociationKeys(c)
	if len(keys) != 2 || keys[0].ItemKey() != "aaaaaaaa-0000-0000-0000-000000000000#teams" ||
		keys[1].SubscriptionID != "bbbbbbbb-0000-0000-0000-000000000000" || keys[1].ItemKey() != "aaaaaaaa-0000-0000-0000-000000000000#power-bi-pro" {
		t.Fatalf("%+v", keys)
	}
}

func TestCatalogIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	areas := map[SolutionArea]int{}
	for _, p := range Catalog() {
		if seen[p.ID] || p.ID == "" || p.Name == "" {
			t.Errorf("bad or duplicate product %+v", p)
		}
		seen[p.ID] = true
		areas[p.SolutionArea]++
		switch p.SolutionArea {
		case Microsoft365:
			if p.AssociationUnit != UnitWorkload || p.Dynamics365 {
				t.Errorf("%s: Microsoft 365 products are workloads, not Dynamics 365", p.ID)
			}
		case BusinessApplications:
			if p.AssociationUnit != UnitSubscription {
				t.Errorf("%s: Business Applications products are per subscription", p.ID)
			}
		default:
			t.Errorf("%s: area %q", p.ID, p.SolutionArea)
		}
		if got, ok := LookupProduct(p.ID); !ok || got != p {
			t.Errorf("lookup %s", p.ID)
		}
	}
	for _, id := range []string{"exchange-online", "sharepoint-online", "onedrive", "teams", "microsoft-365-apps", "intune", "entra-id", "purview", "windows-365",
		"dynamics-365-sales", "dynamics-365-customer-service", "dynamics-365-field-service", "dynamics-365-finance", "dynamics-365-supply-chain",
		"dynamics-365-business-central", "power-bi-pro", "power-apps", "power-automate"} {
		if !seen[id] {
			t.Errorf("catalog lacks %s", id)
		}
	}
	if p, _ := LookupProduct("dynamics-365-sales"); !p.Dynamics365 {
		t.Error("Dynamics 365 Sales is a Dynamics 365 product")
	}
	if p, _ := LookupProduct("power-bi-pro"); p.Dynamics365 {
		t.Error("Power BI is not a Dynamics 365 product")
	}
}
