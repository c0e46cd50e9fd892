package claim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func validDraft() *Claim {
	return &Claim{
		MPNID: "1234567", Customer: Customer{TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", Domain: "contoso.onmicrosoft.com"},
		SolutionArea: Microsoft365, Activity: ActivityUsage,
	}
}

func fields(err error) map[string]string {
	var ve *ValidationError
	out := map[string]string{}
	if errors.As(err, &ve) {
		for _, f := range ve.Errors {
			out[f.Field] = f.Message
		}
	}
	return out
}

func TestValidateValuesReportsEveryFieldAtOnce(t *testing.T) {
	c := &Claim{
		Name: "ok", MPNID: "12a", Customer: Customer{TenantID: "not-a-guid", Domain: "-bad-.com", Name: "x\x00y"},
		SolutionArea: "Azure", Activity: "Selling",
		Products:        []ProductRef{{ID: "teams", SubscriptionID: "72f988bf-86f1-41af-91ab-2d7cd011db47"}, {ID: "nope"}, {ID: ""}},
		CustomerContact: &Contact{Email: "Ana <ana@contoso.com>"}, PartnerContact: &PartnerContact{Email: "pat@localhost"},
		Revenue: &Revenue{CustomerName: "c"}, Comments: strings.Repeat("x", MaxComments+1),
	}
	got := fields(ValidateValues(c, []string{"1234567"}))
	for _, f := range []string{"mpnId", "customer.tenantId", "customer.domain", "customer.name", "solutionArea", "activity",
		"products[0].subscriptionId", "products[1].id", "products[2].id", "customerContact.email", "partnerContact.email", "revenue", "comments"} {
		if _, ok := got[f]; !ok {
			t.Errorf("no error for %s (got %v)", f, got)
		}
	}
}

func TestValidateValuesRules(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(c *Claim)
		field string // "" = valid
	}{
		{"valid draft", func(*Claim) {}, ""},
		{"foreign MPN ID", func(c *Claim) { c.MPNID = "7654321" }, "mpnId"},
		{"missing tenant", func(c *Claim) { c.Customer.TenantID = "" }, "customer.tenantId"},
		{"GUID without dashes", func(c *Claim) { c.Customer.TenantID = "72f988bf86f141af91ab2d7cd011db47" }, "customer.tenantId"},
		{"braced GUID", func(c *Claim) { c.Customer.TenantID = "{72f988bf-86f1-41af-91ab-2d7cd011db47}" }, "customer.tenantId"},
		{"single-label domain", func(c *Claim) { c.Customer.Domain = "contoso" }, "customer.domain"},
		{"domain with space", func(c *Claim) { c.Customer.Domain = "con toso.com" }, "customer.domain"},
		{"numeric tld", func(c *Claim) { c.Customer.Domain = "10.0.0.1" }, "customer.domain"},
		{"label too long", func(c *Claim) { c.Customer.Domain = strings.Repeat("a", 64) + ".com" }, "customer.domain"},
		{"revenue activity on Microsoft 365", func(c *Claim) { c.Activity = ActivityRevenueAssociation }, "activity"},
		{"revenue activity on Business Applications", func(c *Claim) {
			c.SolutionArea, c.Activity = BusinessApplications, ActivityRevenueAssociation
		}, ""},
		{"product of another area", func(c *Claim) { c.Products = []ProductRef{{ID: "power-bi-pro"}} }, "products[0].id"},
		{"subscription on a workload", func(c *Claim) {
			c.Products = []ProductRef{{ID: "teams", SubscriptionID: "72f988bf-86f1-41af-91ab-2d7cd011db47"}}
		}, "products[0].subscriptionId"},
		{"subscription id not a GUID", func(c *Claim) {
			c.SolutionArea, c.Products = BusinessApplications, []ProductRef{{ID: "power-bi-pro", SubscriptionID: "abc"}}
		}, "products[0].subscriptionId"},
		{"duplicate product", func(c *Claim) { c.Products = []ProductRef{{ID: "teams"}, {ID: "teams"}} }, "products[1]"},
		{"too many products", func(c *Claim) { c.Products = make([]ProductRef, MaxProducts+1) }, "products"},
		{"revenue without revenue activity", func(c *Claim) { c.Revenue = &Revenue{CustomerName: "x"} }, "revenue"},
		{"control character in a name", func(c *Claim) { c.Name = "a\u0007b" }, "name"},
		{"line break in a name", func(c *Claim) { c.Name = "a\nb" }, "name"},
		{"line break in comments", func(c *Claim) { c.Comments = "a\r\nb\tc" }, ""},
		{"line separator in comments", func(c *Claim) { c.Comments = "a\u2028b" }, "comments"},
		{"invalid UTF-8", func(c *Claim) { c.Name = "a\xffb" }, "name"},
		{"markup is text", func(c *Claim) { c.Name = "<b>Contoso</b> & <script>" }, ""},
		{"name too long", func(c *Claim) { c.Name = strings.Repeat("é", MaxName+1) }, "name"},
		{"name at the bound", func(c *Claim) { c.Name = strings.Repeat("é", MaxName) }, ""},
		{"email with display name", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "Pat <pat@fabrikam.com>"} }, "partnerContact.email"},
		{"email without a dot domain", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "pat@fabrikam"} }, "partnerContact.email"},
		{"email with CR LF", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "pat@fabrikam.com\r\nBcc: x@y.com"} }, "partnerContact.email"},
		{"good email", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "pat.o'neil+claims@fabrikam.co.uk"} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validDraft()
			tc.edit(c)
			err := ValidateValues(c, []string{"1234567", "7777777"})
			got := fields(err)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected errors %v", got)
				}
				return
			}
			if _, ok := got[tc.field]; !ok {
				t.Fatalf("want an error on %s, got %v", tc.field, got)
			}
		})
	}
}

func TestNormalizeTrims(t *testing.T) {
	c := validDraft()
	c.Name, c.Customer.Domain, c.Customer.TenantID = "  Teams  ", " Contoso.OnMicrosoft.com. ", " 72F988BF-86F1-41AF-91AB-2D7CD011DB47 "
	c.PartnerContact = &PartnerContact{Name: " Pat ", Email: " pat@fabrikam.com "}
	Normalize(c)
	if c.Name != "Teams" || c.Customer.Domain != "contoso.onmicrosoft.com" || c.Customer.TenantID != "72f988bf-86f1-41af-91ab-2d7cd011db47" ||
		c.PartnerContact.Name != "Pat" || c.PartnerContact.Email != "pat@fabrikam.com" {
		t.Fatalf("%+v %+v", c, c.PartnerContact)
	}
	if err := ValidateValues(c, []string{"1234567"}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateComplete(t *testing.T) {
	c := validDraft()
	c.SolutionArea, c.Activity = BusinessApplications, ActivityRevenueAssociation
	c.Products = []ProductRef{{ID: "dynamics-365-sales"}}
	err := ValidateComplete(c)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Kind != KindIncomplete {
		t.Fatalf("want incomplete, got %v", err)
	}
	got := fields(err)
	for _, f := range []string{"name", "customerContact.name", "customerContact.title", "customerContact.email", "partnerContact.name",
		"partnerContact.email", "technicalContact.name", "technicalContact.title", "technicalContact.email",
		"revenue.solutionSellerName", "revenue.customerName", "revenue.isvProductName", "evidence"} {
		if _, ok := got[f]; !ok {
			t.Errorf("missing %s not reported (got %v)", f, got)
		}
	}
	if len(got) != 13 {
		t.Errorf("unexpected extra errors: %v", got)
	}
	// Complete.
	c.Name = "Sales rollout"
	c.CustomerContact = &Contact{Name: "Ana", Title: "CIO", Email: "ana@contoso.com"}
	c.TechnicalContact = &Contact{Name: "Tom", Title: "IT", Email: "tom@contoso.com"}
	c.PartnerContact = &PartnerContact{Name: "Pat", Email: "pat@fabrikam.com"}
	c.Revenue = &Revenue{SolutionSellerName: "S", CustomerName: "C", ISVProductName: "I"}
	c.Evidence = []Evidence{{ID: "e1", Uploaded: false}}
	if got := fields(ValidateComplete(c)); len(got) != 1 || got["evidence"] == "" {
		t.Fatalf("an evidence not uploaded counts: %v", got)
	}
	c.Evidence[0].Uploaded = true
	if err := ValidateComplete(c); err != nil {
		t.Fatal(err)
	}
	// Microsoft 365 needs no technical contact.
	m := validDraft()
	m.Name, m.Products = "x", []ProductRef{{ID: "teams"}}
	m.CustomerContact, m.PartnerContact, m.Evidence = c.CustomerContact, c.PartnerContact, c.Evidence
	if err := ValidateComplete(m); err != nil {
		t.Fatal(err)
	}
	// An invalid value alone is invalid_input, not incomplete.
	m.PartnerContact = &PartnerContact{Name: "Pat", Email: "bad"}
	if err := ValidateComplete(m); !errors.As(err, &ve) || ve.Kind != KindInvalid {
		t.Fatalf("got %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", "contoso.com", "a\x00b", "\xff", "<script>", strings.Repeat("a", 300), "x@y.z", "72f988bf-86f1-41af-91ab-2d7cd011db47"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, domain, email, text string) {
		c := validDraft()
		c.Customer.Domain, c.Name, c.Comments = domain, text, text
		c.PartnerContact = &PartnerContact{Email: email, Name: text}
		Normalize(c)
		err := ValidateValues(c, []string{"1234567"})
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("not a ValidationError: %v", err)
		}
		if err == nil && (!IsDNSName(c.Customer.Domain) || strings.ContainsAny(c.Name, "\x00\n")) {
			t.Fatalf("accepted %q / %q", c.Customer.Domain, c.Name)
		}
		_ = fmt.Sprint(err)
	})
}
