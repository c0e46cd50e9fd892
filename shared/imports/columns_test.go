package imports_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/service"
)

// The header is every field of POST /claims, flattened: a field added to
// service.Fields is a column without anyone listing it.
func TestColumnsAreTheFieldsOfPostClaims(t *testing.T) {
	want := []string{
		"name", "mpnId", "customer.tenantId", "customer.domain", "customer.name", "solutionArea", "activity",
		"products", "customerContact.name", "customerContact.title", "customerContact.email",
		"technicalContact.name", "technicalContact.title", "technicalContact.email",
		"partnerContact.name", "partnerContact.email",
		"revenue.solutionSellerName", "revenue.customerName", "revenue.isvProductName", "comments",
	}
	if got := imports.Columns(); !slices.Equal(got, want) {
		t.Fatalf("columns\n got %q\nwant %q", got, want)
	}
}

// The template's example row makes a valid Draft through the rules of
// POST /claims; every column maps to its field.
func TestTemplateRowIsAValidDraft(t *testing.T) {
	var b bytes.Buffer
	if err := imports.Template(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 || !slices.Equal(recs[0], imports.Columns()) {
		t.Fatalf("template %q %v", recs, err)
	}
	f, errs := imports.FieldsOf(recs[1])
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	svc := service.New(nil, nil, nil, nil)
	owner := service.Caller{Sub: "u", PartnerID: "p", MPNIDs: []string{"1234567"}, Admin: true}
	c, _, err := svc.NewDraft(owner, f, time.Now(), nil)
	if err != nil {
		t.Fatalf("example row refused: %v", err)
	}
	if c.Customer.Domain != "contoso.onmicrosoft.com" || len(c.Products) != 2 || c.CustomerContact.Email == "" || c.PartnerContact.Name == "" {
		t.Fatalf("claim %+v", c)
	}
	cells := make([]string, len(imports.Columns()))
	for i, col := range imports.Columns() {
		cells[i] = "v-" + col
	}
	cells[slices.Index(imports.Columns(), "products")] = "teams;dynamics-365-sales:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9; "
	f, errs = imports.FieldsOf(cells)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if f.Revenue.ISVProductName != "v-revenue.isvProductName" || f.TechnicalContact.Title != "v-technicalContact.title" || f.Comments != "v-comments" {
		t.Fatalf("fields %+v", f)
	}
	if want := []claim.ProductRef{{ID: "teams"}, {ID: "dynamics-365-sales", SubscriptionID: "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9"}, {ID: " "}}; !slices.Equal(f.Products, want) {
		t.Fatalf("products %+v", f.Products)
	}
	cells[slices.Index(imports.Columns(), "products")] = "a:b:c"
	if _, errs := imports.FieldsOf(cells); len(errs) != 1 || errs[0].Field != "products" {
		t.Fatalf("products a:b:c: %+v", errs)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+31 20": "'+31 20", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
		"plain": "plain", "": "", "<b>x</b>": "<b>x</b>",
	} {
		if got := imports.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
	var b strings.Builder
	w, err := imports.NewErrorsWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(3, "=cmd", "invalid_input", "a \"quoted\", multi\nline")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "row,field,code,message\n3,'=cmd,invalid_input,\"a \"\"quoted\"\", multi\nline\"\n" {
		t.Fatalf("errors CSV %q", got)
	}
}

// The first pass counts data rows (blank ones are skipped, as spreadsheets
// leave them at the end) and finds repeated rows, by content.
func TestScanCountsRowsAndFindsRepeats(t *testing.T) {
	cols := imports.Columns()
	blank := strings.Repeat(",", len(cols)-1)
	row := func(name string) string {
		cells := make([]string, len(cols))
		cells[0] = name
		return strings.Join(cells, ",")
	}
	multi := `"multi` + "\n" + `line"` + strings.Repeat(",", len(cols)-1)
	file := strings.Join([]string{strings.Join(cols, ","), row("a"), row(" a "), blank, row("b"), "", row("a"), blank, multi, row("a")}, "\n")
	s, err := imports.ScanFile(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 6 || len(s.Duplicates) != 3 || s.Duplicates[3] != 2 || s.Duplicates[7] != 2 || s.Duplicates[10] != 2 {
		t.Fatalf("scan %+v, want 6 rows, rows 3, 7 and 10 repeating row 2 (an empty line and a blank row count as rows)", s)
	}
}
