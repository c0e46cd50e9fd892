package claim

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testSub    = "0f6e2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
	testSub2   = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
)

var callerMPNs = []string{"1234567", "7777777"}

// validDraft is the least a Draft is created with.
func validDraft() *Claim {
	return &Claim{
		MPNID: "1234567", Customer: Customer{TenantID: testTenant, Domain: "contoso.onmicrosoft.com"},
		SolutionArea: Microsoft365, Activity: ActivityUsage,
	}
}

// completeClaim is a Business Applications revenue claim with a Dynamics
// 365 product, every field submit requires, and an uploaded evidence.
func completeClaim() *Claim {
	return &Claim{
		Name: "Contoso Sales rollout", MPNID: "1234567",
		Customer:     Customer{TenantID: testTenant, Domain: "contoso.com", Name: "Contoso Ltd"},
		SolutionArea: BusinessApplications, Activity: ActivityRevenueAssociation,
		Products:         []ProductRef{{ID: "dynamics-365-sales", SubscriptionID: testSub}, {ID: "power-bi-pro"}},
		CustomerContact:  &Contact{Name: "Ana Silva", Title: "CIO", Email: "ana@contoso.com"},
		TechnicalContact: &Contact{Name: "Tom Lee", Title: "IT lead", Email: "tom@contoso.com"},
		PartnerContact:   &PartnerContact{Name: "Pat Partner", Email: "pat@fabrikam.com"},
		Revenue:          &Revenue{SolutionSellerName: "Fabrikam", CustomerName: "Contoso Ltd", ISVProductName: "SalesBoost"},
		Comments:         "Phase 1 done.\nPhase 2 starts in May.",
		Evidence:         []Evidence{{ID: "e1", FileName: "sow.pdf", ContentType: "application/pdf", Size: 10, Uploaded: true}},
	}
}

// failing returns the error's kind and its fields, sorted; it fails the test
// when err is not nil and not a *ValidationError.
func failing(t *testing.T, err error) (Kind, []string) {
	t.Helper()
	if err == nil {
		return KindInvalid, nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("not a *ValidationError: %v", err)
	}
	var out []string
	for _, f := range ve.Errors {
		if f.Message == "" {
			t.Errorf("%s has no message", f.Field)
		}
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return ve.Kind, out
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestValidateValuesReportsEveryFieldAtOnce(t *testing.T) {
	c := &Claim{
		Name: "a\x00b", MPNID: "12a", Customer: Customer{TenantID: "not-a-guid", Domain: "-bad-.com", Name: "x\x00y"},
		SolutionArea: "Azure", Activity: "Selling",
		Products:         []ProductRef{{ID: "teams", SubscriptionID: testSub}, {ID: "nope"}, {ID: ""}},
		CustomerContact:  &Contact{Name: strings.Repeat("n", MaxPersonName+1), Title: "t\tt", Email: "Ana <ana@contoso.com>"},
		TechnicalContact: &Contact{Email: "tom@"},
		PartnerContact:   &PartnerContact{Name: "p\u2028p", Email: "pat@localhost"},
		Revenue:          &Revenue{CustomerName: strings.Repeat("c", MaxCompanyName+1)},
		Comments:         strings.Repeat("x", MaxComments+1),
	}
	err := ValidateValues(c, callerMPNs)
	kind, got := failing(t, err)
	want := sorted("name", "mpnId", "customer.tenantId", "customer.domain", "customer.name", "solutionArea", "activity",
		"products[0].subscriptionId", "products[1].id", "products[2].id",
		"customerContact.name", "customerContact.title", "customerContact.email", "technicalContact.email",
		"partnerContact.name", "partnerContact.email", "revenue", "revenue.customerName", "comments")
	if kind != KindInvalid || !slices.Equal(got, want) {
		t.Fatalf("kind %v fields\n got %v\nwant %v", kind, got, want)
	}
	if !strings.HasPrefix(err.Error(), "invalid_input: ") || !strings.Contains(err.Error(), "customer.tenantId: must be a GUID") {
		t.Errorf("message %q", err)
	}
}

func TestValidateValuesRules(t *testing.T) {
	products := func(refs ...ProductRef) func(*Claim) {
		return func(c *Claim) { c.Products = refs }
	}
	baProducts := func(refs ...ProductRef) func(*Claim) {
		return func(c *Claim) { c.SolutionArea, c.Products = BusinessApplications, refs }
	}
	cases := []struct {
		name string
		edit func(c *Claim)
		want []string // failing fields; none = valid
	}{
		{"valid draft", func(*Claim) {}, nil},
		{"complete claim", func(c *Claim) { *c = *completeClaim() }, nil},

		// mpnId
		{"missing MPN ID", func(c *Claim) { c.MPNID = "" }, []string{"mpnId"}},
		{"MPN ID with a letter", func(c *Claim) { c.MPNID = "12345a" }, []string{"mpnId"}},
		{"MPN ID of 11 digits", func(c *Claim) { c.MPNID = "12345678901" }, []string{"mpnId"}},
		{"MPN ID with a sign", func(c *Claim) { c.MPNID = "-1234567" }, []string{"mpnId"}},
		{"another of the caller's MPN IDs", func(c *Claim) { c.MPNID = "7777777" }, nil},
		{"MPN ID not the caller's", func(c *Claim) { c.MPNID = "7654321" }, []string{"mpnId"}},
		{"IDN domain", func(c *Claim) { c.Customer.Domain = "bücher.example" }, nil},
		{"domain with an underscore", func(c *Claim) { c.Customer.Domain = "con_toso.com" }, []string{"customer.domain"}},
		{"domain with an empty label", func(c *Claim) { c.Customer.Domain = "contoso..com" }, []string{"customer.domain"}},

		// customer
		{"missing tenant", func(c *Claim) { c.Customer.TenantID = "" }, []string{"customer.tenantId"}},
		{"upper-case GUID", func(c *Claim) { c.Customer.TenantID = strings.ToUpper(testTenant) }, nil},
		{"GUID without hyphens", func(c *Claim) { c.Customer.TenantID = strings.ReplaceAll(testTenant, "-", "") }, []string{"customer.tenantId"}},
		{"braced GUID", func(c *Claim) { c.Customer.TenantID = "{" + testTenant + "}" }, []string{"customer.tenantId"}},
		{"URN GUID", func(c *Claim) { c.Customer.TenantID = "urn:uuid:" + testTenant }, []string{"customer.tenantId"}},
		{"missing domain", func(c *Claim) { c.Customer.Domain = "" }, []string{"customer.domain"}},
		{"single-label domain", func(c *Claim) { c.Customer.Domain = "contoso" }, []string{"customer.domain"}},
		{"domain with a space", func(c *Claim) { c.Customer.Domain = "con toso.com" }, []string{"customer.domain"}},
		{"IPv4 address as domain", func(c *Claim) { c.Customer.Domain = "10.0.0.1" }, []string{"customer.domain"}},
		{"customer name at its bound", func(c *Claim) { c.Customer.Name = strings.Repeat("ç", MaxCompanyName) }, nil},
		{"customer name too long", func(c *Claim) { c.Customer.Name = strings.Repeat("ç", MaxCompanyName+1) }, []string{"customer.name"}},

		// solution area and activity
		{"missing solution area", func(c *Claim) { c.SolutionArea = "" }, []string{"solutionArea"}},
		{"unknown solution area", func(c *Claim) { c.SolutionArea = "microsoft365" }, []string{"solutionArea"}},
		{"missing activity", func(c *Claim) { c.Activity = "" }, []string{"activity"}},
		{"unknown activity", func(c *Claim) { c.Activity = "Resale" }, []string{"activity"}},
		{"pre-sales", func(c *Claim) { c.Activity = ActivityPreSales }, nil},
		{"usage and pre-sales", func(c *Claim) { c.Activity = ActivityUsageAndPreSales }, nil},
		{"revenue association on Microsoft 365", func(c *Claim) { c.Activity = ActivityRevenueAssociation }, []string{"activity"}},
		{"revenue association on Business Applications", func(c *Claim) {
			c.SolutionArea, c.Activity = BusinessApplications, ActivityRevenueAssociation
		}, nil},

		// products
		{"a workload", products(ProductRef{ID: "teams"}, ProductRef{ID: "exchange-online"}), nil},
		{"product of the other area", products(ProductRef{ID: "power-bi-pro"}), []string{"products[0].id"}},
		{"Microsoft 365 product on Business Applications", baProducts(ProductRef{ID: "teams"}), []string{"products[0].id"}},
		{"unknown product", products(ProductRef{ID: "azure-vm"}), []string{"products[0].id"}},
		{"product id in the wrong case", products(ProductRef{ID: "Teams"}), []string{"products[0].id"}},
		{"missing product id", products(ProductRef{}), []string{"products[0].id"}},
		{"subscription on a workload", products(ProductRef{ID: "teams", SubscriptionID: testSub}), []string{"products[0].subscriptionId"}},
		{"subscription on a per-subscription product", baProducts(ProductRef{ID: "power-bi-pro", SubscriptionID: testSub}), nil},
		{"subscription id not a GUID", baProducts(ProductRef{ID: "power-bi-pro", SubscriptionID: "abc"}), []string{"products[0].subscriptionId"}},
		{"duplicate workload", products(ProductRef{ID: "teams"}, ProductRef{ID: "intune"}, ProductRef{ID: "teams"}), []string{"products[2]"}},
		{"duplicate subscription, other case", baProducts(
			ProductRef{ID: "power-apps", SubscriptionID: testSub}, ProductRef{ID: "power-apps", SubscriptionID: strings.ToUpper(testSub)},
		), []string{"products[1]"}},
		{"two subscriptions of one product", baProducts(
			ProductRef{ID: "power-apps", SubscriptionID: testSub}, ProductRef{ID: "power-apps", SubscriptionID: testSub2},
		), nil},
		{"one subscription and all of a product", baProducts(
			ProductRef{ID: "power-apps", SubscriptionID: testSub}, ProductRef{ID: "power-apps"},
		), nil},
		{"one subscription of two products", baProducts(
			ProductRef{ID: "power-apps", SubscriptionID: testSub}, ProductRef{ID: "power-automate", SubscriptionID: testSub},
		), nil},
		{"as many products as allowed", func(c *Claim) {
			c.SolutionArea = BusinessApplications
			for i := range MaxProducts {
				c.Products = append(c.Products, ProductRef{ID: "power-apps", SubscriptionID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i)})
			}
		}, nil},
		{"too many products", func(c *Claim) {
			for range MaxProducts + 1 {
				c.Products = append(c.Products, ProductRef{ID: "teams"})
			}
		}, []string{"products"}},

		// contacts
		{"technical contact on Microsoft 365", func(c *Claim) {
			c.TechnicalContact = &Contact{Name: "Tom", Title: "IT", Email: "tom@contoso.com"}
		}, nil},
		{"contact name at its bound", func(c *Claim) { c.CustomerContact = &Contact{Name: strings.Repeat("é", MaxPersonName)} }, nil},
		{"contact name too long", func(c *Claim) { c.CustomerContact = &Contact{Name: strings.Repeat("é", MaxPersonName+1)} }, []string{"customerContact.name"}},
		{"contact title too long", func(c *Claim) { c.TechnicalContact = &Contact{Title: strings.Repeat("t", MaxTitle+1)} }, []string{"technicalContact.title"}},
		{"email with a display name", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "Pat <pat@fabrikam.com>"} }, []string{"partnerContact.email"}},
		{"email without a dot in its domain", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "pat@fabrikam"} }, []string{"partnerContact.email"}},
		{"email with a header injection", func(c *Claim) {
			c.PartnerContact = &PartnerContact{Email: "pat@fabrikam.com\r\nBcc: x@y.com"}
		}, []string{"partnerContact.email"}},
		{"two emails", func(c *Claim) { c.CustomerContact = &Contact{Email: "a@contoso.com, b@contoso.com"} }, []string{"customerContact.email"}},
		{"email with plus and apostrophe", func(c *Claim) { c.PartnerContact = &PartnerContact{Email: "pat.o'neil+claims@fabrikam.co.uk"} }, nil},

		// revenue
		{"revenue without its activity", func(c *Claim) { c.Revenue = &Revenue{CustomerName: "x"} }, []string{"revenue"}},
		{"empty revenue without its activity", func(c *Claim) { c.Revenue = &Revenue{} }, []string{"revenue"}},
		{"revenue field too long", func(c *Claim) {
			c.SolutionArea, c.Activity = BusinessApplications, ActivityRevenueAssociation
			c.Revenue = &Revenue{ISVProductName: strings.Repeat("i", MaxCompanyName+1)}
		}, []string{"revenue.isvProductName"}},

		// text
		{"markup is text", func(c *Claim) { c.Name = "<b>Contoso</b> & <script>alert(1)</script>" }, nil},
		{"name at its bound", func(c *Claim) { c.Name = strings.Repeat("é", MaxName) }, nil},
		{"name too long", func(c *Claim) { c.Name = strings.Repeat("é", MaxName+1) }, []string{"name"}},
		{"bell in a name", func(c *Claim) { c.Name = "a\u0007b" }, []string{"name"}},
		{"DEL in a name", func(c *Claim) { c.Name = "a\u007fb" }, []string{"name"}},
		{"C1 next-line in a name", func(c *Claim) { c.Name = "a\u0085b" }, []string{"name"}},
		{"line feed in a name", func(c *Claim) { c.Name = "a\nb" }, []string{"name"}},
		{"tab in a name", func(c *Claim) { c.Name = "a\tb" }, []string{"name"}},
		{"right-to-left override in a name", func(c *Claim) { c.Name = "invoice\u202Efdp.exe" }, []string{"name"}},
		{"bidi isolate in a name", func(c *Claim) { c.Name = "a\u2067b\u2069" }, []string{"name"}},
		{"right-to-left mark in a name", func(c *Claim) { c.Name = "שלום\u200F Contoso" }, nil},
		{"emoji with a joiner in a name", func(c *Claim) { c.Name = "Team 👩\u200D💻" }, nil},
		{"invalid UTF-8 in a name", func(c *Claim) { c.Name = "a\xffb" }, []string{"name"}},
		{"line breaks and tabs in comments", func(c *Claim) { c.Comments = "a\r\nb\n\tc" }, nil},
		{"NUL in comments", func(c *Claim) { c.Comments = "a\x00b" }, []string{"comments"}},
		{"line separator in comments", func(c *Claim) { c.Comments = "a\u2028b" }, []string{"comments"}},
		{"paragraph separator in comments", func(c *Claim) { c.Comments = "a\u2029b" }, []string{"comments"}},
		{"comments at their bound", func(c *Claim) { c.Comments = strings.Repeat("€", MaxComments) }, nil},
		{"comments too long", func(c *Claim) { c.Comments = strings.Repeat("€", MaxComments+1) }, []string{"comments"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validDraft()
			tc.edit(c)
			kind, got := failing(t, ValidateValues(c, callerMPNs))
			if want := sorted(tc.want...); !slices.Equal(got, want) || kind != KindInvalid {
				t.Fatalf("failing fields %v (kind %v), want %v", got, kind, want)
			}
		})
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		testTenant:                               true,
		strings.ToUpper(testTenant):              true,
		"00000000-0000-0000-0000-000000000000":   true,
		"":                                       false,
		"72f988bf86f141af91ab2d7cd011db47":       false,
		"{72f988bf-86f1-41af-91ab-2d7cd011db47}": false,
		"urn:uuid:72f988bf-86f1-41af-91ab-2d7cd011db47": false,
		"72f988bf-86f1-41af-91ab-2d7cd011db4":           false,
		"72f988bf-86f1-41af-91ab-2d7cd011db4g":          false,
		"72f988bf-86f1-41af-91ab_2d7cd011db47":          false,
		" 72f988bf-86f1-41af-91ab-2d7cd011db4":          false,
	} {
		if got := IsGUID(s); got != want {
			t.Errorf("IsGUID(%q) = %v, want %v", s, got, want)
		}
	}
}

// A caller without MPN IDs (a token lacking mpn_ids) may claim for none:
// nil is not "skip the check".
func TestValidateValuesRefusesACallerWithoutMPNIDs(t *testing.T) {
	for _, ids := range [][]string{nil, {}, {""}} {
		kind, got := failing(t, ValidateValues(validDraft(), ids))
		if kind != KindInvalid || !slices.Equal(got, []string{"mpnId"}) {
			t.Errorf("caller MPN IDs %#v: %v %v, want mpnId refused", ids, kind, got)
		}
	}
	c := validDraft()
	c.MPNID = "x"
	if _, got := failing(t, ValidateValues(c, nil)); !slices.Equal(got, []string{"mpnId"}) {
		t.Fatalf("the shape is still checked: %v", got)
	}
	// Submit checks a stored claim without a caller: the MPN ID is not
	// asked of anyone there, every other rule still holds.
	if err := ValidateComplete(completeClaim()); err != nil {
		t.Fatalf("complete claim: %v", err)
	}
}

func TestIsDNSName(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 63+1+63+1+63+1+61 = 253 characters.
	name253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 57) + ".com"
	cases := []struct {
		name string
		want bool
	}{
		{"contoso.com", true},
		{"contoso.onmicrosoft.com", true},
		{"Contoso.COM", true},
		{"my-company.co.uk", true},
		{"1password.com", true},
		{"contoso.com.", true},
		{"xn--bcher-kva.example", true},
		{label63 + ".com", true},
		{name253, true},
		{name253 + ".", true},
		{"a" + name253, false},
		{strings.Repeat("a", 64) + ".com", false},
		{"", false},
		{".", false},
		{"contoso", false},
		{"contoso.", false},
		{".contoso.com", false},
		{"contoso..com", false},
		{"-contoso.com", false},
		{"contoso-.com", false},
		{"contoso.-com", false},
		{"con_toso.com", false},
		{"con toso.com", false},
		// Internationalized names (IDNA 2008 / UTS #46): valid in Unicode
		// or ASCII form; malformed A-labels and invisible joiners are not.
		{"bücher.example", true},
		{"BÜCHER.Example", true},
		{"münchen.de", true},
		{"例え.テスト", true},
		{"xn--r8jz45g.xn--zckzah", true},
		{"xn--zz.com", false},
		{"xn--a.com", false},
		{"a\u200db.com", false},
		{"bücher..example", false},
		{"bü cher.example", false},
		{"bü_cher.example", false},
		{".bücher.example", false},
		{"\xff.com", false},
		{"ab--cd.com", false},
		{"10.0.0.1", false},
		{"contoso.123", false},
		{"contoso.com/path", false},
		{"ana@contoso.com", false},
		{"contoso.com:443", false},
	}
	for _, tc := range cases {
		if got := IsDNSName(tc.name); got != tc.want {
			t.Errorf("IsDNSName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDomainASCII(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"contoso.com", "contoso.com"},
		{"Contoso.COM.", "contoso.com"},
		{"Bücher.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"ｃｏｎｔｏｓｏ.com", "contoso.com"}, // full-width letters map to ASCII
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
	} {
		if got, ok := DomainASCII(tc.in); !ok || got != tc.want {
			t.Errorf("DomainASCII(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	// 63-octet A-label limit: a Unicode label that fits in characters but
	// not once encoded is refused.
	if _, ok := DomainASCII(strings.Repeat("ü", 60) + ".com"); ok {
		t.Error("a label past 63 octets in ASCII form was accepted")
	}
}

func TestNormalizeCanonicalisesAnIDNDomain(t *testing.T) {
	c := validDraft()
	c.Customer.Domain = " Bücher.Example. "
	Normalize(c)
	if c.Customer.Domain != "xn--bcher-kva.example" {
		t.Fatalf("domain %q", c.Customer.Domain)
	}
	if err := ValidateValues(c, callerMPNs); err != nil {
		t.Fatal(err)
	}
	bad := validDraft()
	bad.Customer.Domain = " Con_Toso.COM. "
	Normalize(bad)
	if bad.Customer.Domain != "con_toso.com" {
		t.Fatalf("an invalid domain is only trimmed and lowercased: %q", bad.Customer.Domain)
	}
}

func TestIsEmail(t *testing.T) {
	local64 := strings.Repeat("l", 64)
	cases := []struct {
		email string
		want  bool
	}{
		{"ana@contoso.com", true},
		{"ANA@CONTOSO.COM", true},
		{"pat.o'neil+claims@fabrikam.co.uk", true},
		{"first_last@sub.contoso.example", true},
		{"a@b.co", true},
		{local64 + "@contoso.com", true},
		{"l" + local64 + "@contoso.com", false},
		{"ana@" + strings.Repeat("d", 63) + "." + strings.Repeat("e", 63) + "." + strings.Repeat("f", 63) + "." + strings.Repeat("g", 56) + ".com", false}, // over 254
		{"", false},
		{"ana", false},
		{"ana@", false},
		{"@contoso.com", false},
		{"ana@@contoso.com", false},
		{"Ana <ana@contoso.com>", false},
		{"<ana@contoso.com>", false},
		{"ana@contoso.com (Ana)", false},
		{`"ana lee"@contoso.com`, false},
		{"ana lee@contoso.com", false},
		{".ana@contoso.com", false},
		{"ana.@contoso.com", false},
		{"ana@contoso", false},
		{"ana@contoso.com.", false},
		{"ana@contoso..com", false},
		{"ana@-contoso.com", false},
		{"ana@[10.0.0.1]", false},
		{"ana@10.0.0.1", false},
		{"josé@contoso.com", false},
		{"ana@bücher.example", false},
		{"ana@contoso.com\r\n", false},
		{"ana@contoso.com, bob@contoso.com", false},
	}
	for _, tc := range cases {
		if got := IsEmail(tc.email); got != tc.want {
			t.Errorf("IsEmail(%q) = %v, want %v", tc.email, got, tc.want)
		}
	}
}

func TestValidateText(t *testing.T) {
	cases := []struct {
		name      string
		value     string
		max       int
		multiline bool
		want      string // message; "" = valid
	}{
		{"empty passes", "", 10, false, ""},
		{"plain", "hello", 10, false, ""},
		{"at the bound, multi-byte", "ééééé", 5, false, ""},
		{"over the bound", "éééééé", 5, false, "must be at most 5 characters"},
		{"line feed, single line", "a\nb", 10, false, "must not contain control characters"},
		{"line feed, multiline", "a\nb", 10, true, ""},
		{"CR LF and tab, multiline", "a\r\n\tb", 10, true, ""},
		{"escape, multiline", "a\x1bb", 10, true, "must not contain control characters"},
		{"vertical tab, multiline", "a\vb", 10, true, "must not contain control characters"},
		{"line separator, multiline", "a\u2028b", 10, true, "must not contain control characters"},
		{"override, multiline", "a\u202Db", 10, true, "must not contain control characters"},
		{"invalid UTF-8", "a\xc3", 10, true, "must be valid UTF-8"},
		{"markup", "<b>x</b>", 10, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := ValidateText("reason", tc.value, tc.max, tc.multiline)
			switch {
			case tc.want == "" && fe != nil:
				t.Fatalf("unexpected %+v", fe)
			case tc.want != "" && (fe == nil || fe.Field != "reason" || fe.Message != tc.want):
				t.Fatalf("got %+v, want reason: %s", fe, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	c := &Claim{
		Name: "  Teams rollout \t", MPNID: " 1234567 ",
		Customer:         Customer{TenantID: " 72F988BF-86F1-41AF-91AB-2D7CD011DB47\n", Domain: " Contoso.OnMicrosoft.COM. ", Name: " Contoso Ltd "},
		Products:         []ProductRef{{ID: " teams "}, {ID: " Power-BI-Pro ", SubscriptionID: " 0F6E2A3B-1C4D-4E5F-8A9B-0C1D2E3F4A5B "}},
		CustomerContact:  &Contact{Name: " Ana ", Title: " CIO ", Email: " Ana@Contoso.com "},
		TechnicalContact: &Contact{Name: "\u00a0Tom\u00a0", Title: " IT ", Email: " tom@contoso.com\r\n"},
		PartnerContact:   &PartnerContact{Name: " Pat ", Email: " pat@fabrikam.com "},
		Revenue:          &Revenue{SolutionSellerName: " S ", CustomerName: " C ", ISVProductName: " I "},
		Comments:         "\n  line one\n  line two  \n",
	}
	want := &Claim{
		Name: "Teams rollout", MPNID: "1234567",
		Customer:         Customer{TenantID: testTenant, Domain: "contoso.onmicrosoft.com", Name: "Contoso Ltd"},
		Products:         []ProductRef{{ID: "teams"}, {ID: "Power-BI-Pro", SubscriptionID: testSub}},
		CustomerContact:  &Contact{Name: "Ana", Title: "CIO", Email: "Ana@Contoso.com"},
		TechnicalContact: &Contact{Name: "Tom", Title: "IT", Email: "tom@contoso.com"},
		PartnerContact:   &PartnerContact{Name: "Pat", Email: "pat@fabrikam.com"},
		Revenue:          &Revenue{SolutionSellerName: "S", CustomerName: "C", ISVProductName: "I"},
		Comments:         "line one\n  line two",
	}
	Normalize(c)
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("normalized\n got %+v\nwant %+v", c, want)
	}
	// Optional parts left out stay out.
	d := validDraft()
	Normalize(d)
	if d.CustomerContact != nil || d.TechnicalContact != nil || d.PartnerContact != nil || d.Revenue != nil || d.Products != nil {
		t.Fatalf("Normalize created parts: %+v", d)
	}
	// Normalizing twice changes nothing more.
	Normalize(c)
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("not idempotent: %+v", c)
	}
}

func TestValidateComplete(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Claim)
		kind Kind
		want []string
	}{
		{"complete", func(*Claim) {}, KindInvalid, nil},
		{"an MPN ID no caller list holds", func(c *Claim) { c.MPNID = "9999999" }, KindInvalid, nil},
		{"only a Draft's fields", func(c *Claim) {
			d := validDraft()
			d.SolutionArea, d.Activity, d.Products = BusinessApplications, ActivityRevenueAssociation, []ProductRef{{ID: "dynamics-365-sales"}}
			*c = *d
		}, KindIncomplete, []string{
			"name", "customerContact.name", "customerContact.title", "customerContact.email",
			"technicalContact.name", "technicalContact.title", "technicalContact.email",
			"partnerContact.name", "partnerContact.email",
			"revenue.solutionSellerName", "revenue.customerName", "revenue.isvProductName", "evidence",
		}},
		{"no products", func(c *Claim) { c.Products = nil }, KindIncomplete, []string{"products"}},
		{"evidence not uploaded yet", func(c *Claim) { c.Evidence[0].Uploaded = false }, KindIncomplete, []string{"evidence"}},
		{"one of two evidences uploaded", func(c *Claim) {
			c.Evidence = append([]Evidence{{ID: "e0"}}, c.Evidence...)
		}, KindInvalid, nil},
		{"no evidence", func(c *Claim) { c.Evidence = nil }, KindIncomplete, []string{"evidence"}},
		{"partial technical contact", func(c *Claim) { c.TechnicalContact = &Contact{Name: "Tom"} }, KindIncomplete,
			[]string{"technicalContact.title", "technicalContact.email"}},
		{"no technical contact for Power BI alone", func(c *Claim) {
			c.Products, c.TechnicalContact = []ProductRef{{ID: "power-bi-pro"}}, nil
		}, KindInvalid, nil},
		{"no technical contact for Microsoft 365", func(c *Claim) {
			c.SolutionArea, c.Activity, c.Revenue = Microsoft365, ActivityUsage, nil
			c.Products, c.TechnicalContact = []ProductRef{{ID: "teams"}}, nil
		}, KindInvalid, nil},
		{"no revenue fields outside revenue association", func(c *Claim) {
			c.Activity, c.Revenue = ActivityUsageAndPreSales, nil
		}, KindInvalid, nil},
		{"partial revenue", func(c *Claim) { c.Revenue = &Revenue{CustomerName: "C"} }, KindIncomplete,
			[]string{"revenue.solutionSellerName", "revenue.isvProductName"}},
		{"missing partner contact", func(c *Claim) { c.PartnerContact = nil }, KindIncomplete,
			[]string{"partnerContact.name", "partnerContact.email"}},
		{"blank customer contact", func(c *Claim) { c.CustomerContact = &Contact{} }, KindIncomplete,
			[]string{"customerContact.name", "customerContact.title", "customerContact.email"}},
		{"an invalid value alone", func(c *Claim) { c.PartnerContact.Email = "bad" }, KindInvalid, []string{"partnerContact.email"}},
		{"invalid and missing together", func(c *Claim) {
			c.PartnerContact.Email, c.Name = "bad", ""
		}, KindIncomplete, []string{"name", "partnerContact.email"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := completeClaim()
			tc.edit(c)
			err := ValidateComplete(c)
			kind, got := failing(t, err)
			if want := sorted(tc.want...); !slices.Equal(got, want) || (err != nil && kind != tc.kind) {
				t.Fatalf("kind %v fields %v; want kind %v fields %v", kind, got, tc.kind, want)
			}
		})
	}
}

func TestValidationErrorThroughWrapping(t *testing.T) {
	c := completeClaim()
	c.Evidence = nil
	err := fmt.Errorf("submit %s: %w", "claim-1", ValidateComplete(c))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Kind != KindIncomplete || len(ve.Errors) != 1 || ve.Errors[0].Field != "evidence" {
		t.Fatalf("errors.As: %v", err)
	}
	if got := ve.Error(); got != "incomplete: evidence: must hold at least one uploaded proof of execution that validation has not refused" {
		t.Errorf("message %q", got)
	}
	if KindInvalid.String() != "invalid_input" || KindIncomplete.String() != "incomplete" {
		t.Error("kind names are the API's codes")
	}
}

func TestNeedsTechnicalContact(t *testing.T) {
	for _, tc := range []struct {
		products []ProductRef
		want     bool
	}{
		{nil, false},
		{[]ProductRef{{ID: "teams"}}, false},
		{[]ProductRef{{ID: "power-bi-pro"}, {ID: "copilot-studio"}}, false},
		{[]ProductRef{{ID: "power-bi-pro"}, {ID: "dynamics-365-business-central"}}, true},
		{[]ProductRef{{ID: "unknown"}}, false},
	} {
		if got := NeedsTechnicalContact(&Claim{Products: tc.products}); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.products, got, tc.want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", "contoso.com", "a\x00b", "\xff", "<script>", strings.Repeat("a", 300), "x@y.z", testTenant, "a\u202eb"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, domain, email, text string) {
		c := validDraft()
		c.Customer.Domain, c.Name, c.Comments = domain, text, text
		c.PartnerContact = &PartnerContact{Email: email, Name: text}
		Normalize(c)
		err := ValidateValues(c, callerMPNs)
		var ve *ValidationError
		if err != nil && (!errors.As(err, &ve) || len(ve.Errors) == 0) {
			t.Fatalf("not a ValidationError: %v", err)
		}
		if err != nil {
			return
		}
		if !IsDNSName(c.Customer.Domain) || (c.PartnerContact.Email != "" && !IsEmail(c.PartnerContact.Email)) {
			t.Fatalf("accepted %q / %q", c.Customer.Domain, c.PartnerContact.Email)
		}
		if strings.ContainsFunc(c.Name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u202e' }) {
			t.Fatalf("accepted name %q", c.Name)
		}
	})
}

// Evidence that validation refused does not count as proof: a claim whose
// only uploads were refused is incomplete until another is uploaded.
func TestRefusedEvidenceIsNoProof(t *testing.T) {
	c := completeClaim()
	for i := range c.Evidence {
		c.Evidence[i].Invalid = "content is not application/pdf"
	}
	var ve *ValidationError
	if err := ValidateComplete(c); !errors.As(err, &ve) || ve.Kind != KindIncomplete || ve.Errors[0].Field != "evidence" {
		t.Fatalf("only refused evidence: %v", err)
	}
	c.Evidence = append(c.Evidence, Evidence{ID: "e2", FileName: "sow2.pdf", ContentType: "application/pdf", Size: 10, Uploaded: true})
	if err := ValidateComplete(c); err != nil {
		t.Fatalf("a new upload beside the refused one: %v", err)
	}
}
