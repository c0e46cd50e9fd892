package claim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedCatalogIsConsistent(t *testing.T) {
	products := Catalog()
	if err := checkCatalog(products); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range products {
		if seen[p.ID] {
			t.Errorf("duplicate id %s", p.ID)
		}
		seen[p.ID] = true
		switch p.SolutionArea {
		case Microsoft365:
			if p.AssociationUnit != UnitWorkload || p.Dynamics365 {
				t.Errorf("%s: a Microsoft 365 product is a workload and not Dynamics 365: %+v", p.ID, p)
			}
		case BusinessApplications:
			if p.AssociationUnit != UnitSubscription {
				t.Errorf("%s: a Business Applications product is per subscription: %+v", p.ID, p)
			}
			if got := strings.HasPrefix(p.Name, "Dynamics 365 "); got != p.Dynamics365 {
				t.Errorf("%s: dynamics365=%v but name %q", p.ID, p.Dynamics365, p.Name)
			}
		default:
			t.Errorf("%s: solution area %q", p.ID, p.SolutionArea)
		}
		if got, ok := LookupProduct(p.ID); !ok || got != p {
			t.Errorf("LookupProduct(%s) = %+v, %v", p.ID, got, ok)
		}
	}
}

func TestCatalogHasTheNamedProducts(t *testing.T) {
	cases := []struct {
		id, name string
		area     SolutionArea
		unit     string
		d365     bool
	}{
		{"exchange-online", "Exchange Online", Microsoft365, UnitWorkload, false},
		{"sharepoint-online", "SharePoint Online", Microsoft365, UnitWorkload, false},
		{"onedrive", "OneDrive for Business", Microsoft365, UnitWorkload, false},
		{"teams", "Microsoft Teams", Microsoft365, UnitWorkload, false},
		{"teams-phone", "Microsoft Teams Phone", Microsoft365, UnitWorkload, false},
		{"microsoft-365-apps", "Microsoft 365 Apps", Microsoft365, UnitWorkload, false},
		{"intune", "Microsoft Intune", Microsoft365, UnitWorkload, false},
		{"entra-id", "Microsoft Entra ID", Microsoft365, UnitWorkload, false},
		{"defender-office-365", "Microsoft Defender for Office 365", Microsoft365, UnitWorkload, false},
		{"defender-endpoint", "Microsoft Defender for Endpoint", Microsoft365, UnitWorkload, false},
		{"defender-identity", "Microsoft Defender for Identity", Microsoft365, UnitWorkload, false},
		{"purview", "Microsoft Purview", Microsoft365, UnitWorkload, false},
		{"windows-365", "Windows 365", Microsoft365, UnitWorkload, false},
		{"viva", "Microsoft Viva", Microsoft365, UnitWorkload, false},
		{"copilot-microsoft-365", "Microsoft 365 Copilot", Microsoft365, UnitWorkload, false},
		{"dynamics-365-sales", "Dynamics 365 Sales", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-customer-service", "Dynamics 365 Customer Service", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-field-service", "Dynamics 365 Field Service", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-finance", "Dynamics 365 Finance", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-supply-chain", "Dynamics 365 Supply Chain Management", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-business-central", "Dynamics 365 Business Central", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-commerce", "Dynamics 365 Commerce", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-human-resources", "Dynamics 365 Human Resources", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-project-operations", "Dynamics 365 Project Operations", BusinessApplications, UnitSubscription, true},
		{"dynamics-365-customer-insights", "Dynamics 365 Customer Insights", BusinessApplications, UnitSubscription, true},
		{"power-bi-pro", "Power BI Pro", BusinessApplications, UnitSubscription, false},
		{"power-bi-premium", "Power BI Premium", BusinessApplications, UnitSubscription, false},
		{"power-apps", "Power Apps", BusinessApplications, UnitSubscription, false},
		{"power-automate", "Power Automate", BusinessApplications, UnitSubscription, false},
		{"power-pages", "Power Pages", BusinessApplications, UnitSubscription, false},
		{"copilot-studio", "Microsoft Copilot Studio", BusinessApplications, UnitSubscription, false},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			want := Product{ID: tc.id, Name: tc.name, SolutionArea: tc.area, AssociationUnit: tc.unit, Dynamics365: tc.d365}
			if got, ok := LookupProduct(tc.id); !ok || got != want {
				t.Fatalf("got %+v, %v; want %+v", got, ok, want)
			}
		})
	}
	for _, id := range []string{"", "Teams", " teams", "azure", "dynamics-365"} {
		if p, ok := LookupProduct(id); ok {
			t.Errorf("LookupProduct(%q) found %+v", id, p)
		}
	}
}

func TestCatalogOrderIsStableAndACopy(t *testing.T) {
	var raw []struct{ ID string }
	if err := json.Unmarshal(catalogJSON, &raw); err != nil {
		t.Fatal(err)
	}
	a := Catalog()
	if len(a) != len(raw) {
		t.Fatalf("%d products, catalog.json has %d", len(a), len(raw))
	}
	for i := range raw {
		if a[i].ID != raw[i].ID {
			t.Fatalf("product %d is %s, catalog.json has %s", i, a[i].ID, raw[i].ID)
		}
	}
	// Microsoft 365 first, then Business Applications.
	firstBA := slices.IndexFunc(a, func(p Product) bool { return p.SolutionArea == BusinessApplications })
	if firstBA <= 0 || slices.ContainsFunc(a[firstBA:], func(p Product) bool { return p.SolutionArea == Microsoft365 }) {
		t.Errorf("areas are interleaved")
	}
	a[0].Name = "changed"
	if Catalog()[0].Name == "changed" {
		t.Error("Catalog hands out the package's own slice")
	}
	if p, _ := LookupProduct(a[0].ID); p.Name == "changed" {
		t.Error("a caller's copy changed the lookup")
	}
}

func TestParseCatalogRefusesBadData(t *testing.T) {
	good := `{"id":"teams","name":"Microsoft Teams","solutionArea":"Microsoft365","associationUnit":"workload","dynamics365":false}`
	ba := `{"id":"dynamics-365-sales","name":"Dynamics 365 Sales","solutionArea":"BusinessApplications","associationUnit":"subscription","dynamics365":true}`
	cases := []struct {
		name, data string
		ok         bool
	}{
		{"two valid products", "[" + good + "," + ba + "]", true},
		{"empty list", `[]`, false},
		{"not a list", `{}`, false},
		{"trailing data", "[" + good + "] []", false},
		{"unknown field", `[{"id":"teams","name":"T","solutionArea":"Microsoft365","associationUnit":"workload","dynamics365":false,"sku":"x"}]`, false},
		{"duplicate id", "[" + good + "," + good + "]", false},
		{"upper-case id", `[{"id":"Teams","name":"T","solutionArea":"Microsoft365","associationUnit":"workload"}]`, false},
		{"id with double hyphen", `[{"id":"power--bi","name":"T","solutionArea":"BusinessApplications","associationUnit":"subscription"}]`, false},
		{"id with trailing hyphen", `[{"id":"teams-","name":"T","solutionArea":"Microsoft365","associationUnit":"workload"}]`, false},
		{"id with underscore", `[{"id":"power_bi","name":"T","solutionArea":"BusinessApplications","associationUnit":"subscription"}]`, false},
		{"empty name", `[{"id":"teams","name":"","solutionArea":"Microsoft365","associationUnit":"workload"}]`, false},
		{"name with a line break", `[{"id":"teams","name":"Microsoft\nTeams","solutionArea":"Microsoft365","associationUnit":"workload"}]`, false},
		{"unknown area", `[{"id":"azure-vm","name":"VM","solutionArea":"Azure","associationUnit":"subscription"}]`, false},
		{"unknown unit", `[{"id":"teams","name":"T","solutionArea":"Microsoft365","associationUnit":"seat"}]`, false},
		{"Microsoft 365 per subscription", `[{"id":"teams","name":"T","solutionArea":"Microsoft365","associationUnit":"subscription"}]`, false},
		{"Business Applications per workload", `[{"id":"power-apps","name":"P","solutionArea":"BusinessApplications","associationUnit":"workload"}]`, false},
		{"Dynamics 365 flag on Microsoft 365", `[{"id":"teams","name":"T","solutionArea":"Microsoft365","associationUnit":"workload","dynamics365":true}]`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCatalog([]byte(tc.data))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
