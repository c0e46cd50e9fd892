// Package imports is the bulk import of Drafts from a CSV file (API.md
// "Bulk import (v2)"): the file's columns, derived from the fields POST
// /claims takes; the upload; the processing of an uploaded file, row by
// row, through the same Draft creation as POST /claims (service.NewDraft);
// and the errors CSV of refused rows.
package imports

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/service"
)

// ProductsColumn is the one column that holds a list: products as `id` or
// `id:subscriptionId`, joined by `;`.
const ProductsColumn = "products"

var columns = deriveColumns(reflect.TypeOf(service.Fields{}), "")

// Columns are the CSV header: every field of service.Fields (the body of
// POST /claims) by its dotted JSON path, nested objects flattened, in the
// struct's order. A field added to the claim's input is a column at once:
// the template, the parser and the errors cannot drift from POST /claims.
func Columns() []string { return append([]string(nil), columns...) }

func deriveColumns(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, deriveColumns(ft, path+".")...)
		case ft == reflect.TypeOf([]claim.ProductRef{}) && path == ProductsColumn:
			out = append(out, path)
		case ft.Kind() == reflect.String:
			out = append(out, path)
		default:
			panic(fmt.Sprintf("imports: field %s of kind %s has no CSV form", path, ft.Kind()))
		}
	}
	return out
}

// ExampleRow is the template's example: one row that imports as a valid
// Draft for a caller with MPN ID 1234567.
func ExampleRow() []string {
	ex := map[string]string{
		"name":                       "Contoso Teams rollout",
		"mpnId":                      "1234567",
		"customer.tenantId":          "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
		"customer.domain":            "contoso.onmicrosoft.com",
		"customer.name":              "Contoso Ltd",
		"solutionArea":               string(claim.Microsoft365),
		"activity":                   string(claim.ActivityUsage),
		ProductsColumn:               "teams;sharepoint-online",
		"customerContact.name":       "Ana Silva",
		"customerContact.title":      "IT Director",
		"customerContact.email":      "ana@contoso.onmicrosoft.com",
		"partnerContact.name":        "Sam Lee",
		"partnerContact.email":       "sam@fabrikam.example",
		"comments":                   "Imported from the template",
		"technicalContact.name":      "",
		"revenue.solutionSellerName": "",
		"revenue.customerName":       "",
		"revenue.isvProductName":     "",
		"technicalContact.title":     "",
		"technicalContact.email":     "",
	}
	row := make([]string, len(columns))
	for i, c := range columns {
		row[i] = ex[c]
	}
	return row
}

// FieldsOf maps one data row (cells in Columns order) to the fields of
// POST /claims: each non-empty cell at its dotted path, products split.
// The result goes through service.NewDraft like any POST /claims body;
// the only errors here are those of the products cell's own syntax.
func FieldsOf(cells []string) (service.Fields, []claim.FieldError) {
	doc := map[string]any{}
	var errs []claim.FieldError
	for i, col := range columns {
		v := cells[i]
		if strings.TrimSpace(v) == "" {
			continue
		}
		if col == ProductsColumn {
			ps, perr := parseProducts(v)
			if perr != nil {
				errs = append(errs, *perr)
				continue
			}
			doc[col] = ps
			continue
		}
		set(doc, strings.Split(col, "."), v)
	}
	var f service.Fields
	b, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil { // strings into string fields: cannot fail
		errs = append(errs, claim.FieldError{Field: "row", Message: "cannot be read: " + err.Error()})
	}
	return f, errs
}

func set(doc map[string]any, path []string, v string) {
	for _, p := range path[:len(path)-1] {
		next, ok := doc[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[p] = next
		}
		doc = next
	}
	doc[path[len(path)-1]] = v
}

// parseProducts reads `id` or `id:subscriptionId` items joined by `;`. An
// empty item is kept as an empty id, for the field rules to report.
func parseProducts(v string) ([]claim.ProductRef, *claim.FieldError) {
	items := strings.Split(v, ";")
	if len(items) > claim.MaxProducts {
		return nil, &claim.FieldError{Field: ProductsColumn, Message: fmt.Sprintf("must list at most %d products", claim.MaxProducts)}
	}
	out := make([]claim.ProductRef, 0, len(items))
	for _, it := range items {
		id, sub, hasSub := strings.Cut(it, ":")
		if hasSub && strings.Contains(sub, ":") {
			return nil, &claim.FieldError{Field: ProductsColumn, Message: "each product must be id or id:subscriptionId, joined by ;"}
		}
		out = append(out, claim.ProductRef{ID: id, SubscriptionID: sub})
	}
	return out, nil
}
