package e2e_test

import (
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// readCSV follows a CSV export's Link headers from path to the last page
// and returns the header row and every record, checking each page.
func readCSV(t *testing.T, u *apitest.User, path string) (header []string, rows []map[string]string, pages int) {
	t.Helper()
	for path != "" {
		r := apitest.Expect(t, apitest.Call(t, u, "GET", path, nil, "Accept", "text/csv"), 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("%s: content type %q", path, ct)
		}
		if !strings.Contains(string(r.Body), "\r\n") {
			t.Fatalf("%s: RFC 4180 lines end in CRLF: %q", path, r.Body)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if err != nil {
			t.Fatalf("%s: not CSV: %v\n%s", path, err, r.Body)
		}
		if header == nil {
			header = recs[0]
		} else if !slices.Equal(header, recs[0]) {
			t.Fatalf("header changed between pages: %v / %v", header, recs[0])
		}
		for _, rec := range recs[1:] {
			row := map[string]string{}
			for i, col := range header {
				row[col] = rec[i]
			}
			rows = append(rows, row)
		}
		pages++
		path = ""
		if l := r.Header.Get("Link"); l != "" {
			m := linkNext.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q", l)
			}
			path = m[1]
		}
	}
	return header, rows, pages
}

// GET /claims with Accept: text/csv: the same claims as JSON, as RFC 4180
// CSV with dotted columns, formula-like text neutralised, paged by Link.
func TestClaimsCSVExport(t *testing.T) {
	u := apitest.NewUser(t, fmt.Sprintf("exporter-%d", time.Now().UnixNano()), true)
	var ids []string
	for i := range 5 {
		b := apitest.DraftBody(true)
		b["name"] = fmt.Sprintf("=HYPERLINK(\"http://evil.example\",\"claim %d\")", i)
		b["comments"] = "line one, with \"quotes\"\nline two"
		b["customer"].(map[string]any)["name"] = "@Contoso Ltd ü"
		r := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", b), 201)
		ids = append(ids, r.JSON(t)["id"].(string))
	}
	slices.Reverse(ids) // newest first
	header, rows, pages := readCSV(t, &u, "/claims?limit=2&status=Draft")
	if pages != 3 || len(rows) != 5 {
		t.Fatalf("%d pages, %d rows", pages, len(rows))
	}
	for _, col := range []string{"id", "status", "customer.tenantId", "customer.domain", "products", "customerContact.email", "partnerContact.email", "statusReason.code", "createdAt"} {
		if !slices.Contains(header, col) {
			t.Errorf("no column %q in %v", col, header)
		}
	}
	for i, row := range rows {
		if row["id"] != ids[i] {
			t.Errorf("row %d is %s, want %s", i, row["id"], ids[i])
		}
		j := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+row["id"], nil), 200).JSON(t)
		if row["name"] != "'"+j["name"].(string) || row["customer.name"] != "'@Contoso Ltd ü" ||
			row["comments"] != j["comments"] || row["products"] != "teams" || row["status"] != "Draft" ||
			row["customer.tenantId"] != j["customer"].(map[string]any)["tenantId"] || row["createdAt"] != j["createdAt"] {
			t.Errorf("row %v\nclaim %v", row, j)
		}
	}
	// Without Accept: text/csv the same route answers JSON.
	if r := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=2", nil), 200); !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("JSON listing: %q", r.Header.Get("Content-Type"))
	}
	// A CSV page may hold up to 5,000 rows, not more.
	if r := apitest.Call(t, &u, "GET", "/claims?limit=5001", nil, "Accept", "text/csv"); r.Status != 400 || r.Code(t) != "invalid_input" {
		t.Errorf("limit 5001: %d %s", r.Status, r.Body)
	}
	if _, rows, _ := readCSV(t, &u, "/claims?limit=5000"); len(rows) != 5 {
		t.Errorf("limit 5000: %d rows", len(rows))
	}
}
