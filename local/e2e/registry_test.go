package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// held lists every unit u's partner holds (following nextCursor) as
// "tenant product subscription claim".
func held(t *testing.T, u *apitest.User, query string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		q := "/associations?limit=2" + query
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := apitest.Expect(t, apitest.Call(t, u, "GET", q, nil), 200).JSON(t)
		for _, it := range page["items"].([]any) {
			m := it.(map[string]any)
			sub, _ := m["subscriptionId"].(string)
			if _, ok := m["subscriptionId"]; !ok {
				t.Fatalf("subscriptionId must be present (null for a workload): %v", m)
			}
			if !strings.HasPrefix(m["domain"].(string), "contoso-") || m["customerName"] != "Contoso <Ltd>" || m["mpnId"] != "1234567" {
				t.Errorf("row %v", m)
			}
			if _, err := time.Parse(time.RFC3339, m["since"].(string)); err != nil {
				t.Errorf("since %v", m["since"])
			}
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", m["tenantId"], m["productId"], m["claimId"], sub)))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// GET /associations: what the partner holds now, one row per unit, with
// tenant and product filters, paged by bound cursors, as JSON and as CSV;
// another partner sees none of it; an ended association's units are gone.
func TestAssociationsRegistry(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e6
	p1 := apitest.NewUser(t, fmt.Sprintf("holder-%d", stamp), true)
	reader := apitest.NewUser(t, p1.Partner, false)
	p2 := apitest.NewUser(t, fmt.Sprintf("stranger-%d", stamp), true)
	t1, t2 := afterTenant(), afterTenant()
	sub := fmt.Sprintf("5ab5ab5a-1111-4000-8000-%012d", stamp)
	a := approvedClaim(t, &p1, t1, func(b map[string]any) {
		b["products"] = []any{map[string]any{"id": "teams"}, map[string]any{"id": "exchange-online"}}
	})
	d := approvedClaim(t, &p1, t2, dynamicsClaim(sub))

	want := []string{
		t1 + " exchange-online " + a.id, t1 + " teams " + a.id, t2 + " dynamics-365-sales " + d.id + " " + sub,
	}
	slices.Sort(want)
	all := held(t, &reader, "")
	slices.Sort(all)
	if !slices.Equal(all, want) {
		t.Fatalf("held:\n got %q\nwant %q", all, want)
	}
	if got := held(t, &p1, "&tenantId="+strings.ToUpper(t1)); len(got) != 2 {
		t.Errorf("tenant filter: %q", got)
	}
	if got := held(t, &p1, "&productId=teams"); len(got) != 1 || got[0] != t1+" teams "+a.id {
		t.Errorf("product filter: %q", got)
	}
	if got := held(t, &p1, "&tenantId="+t2+"&productId=dynamics-365-sales"); len(got) != 1 {
		t.Errorf("tenant and product: %q", got)
	}
	if got := held(t, &p2, ""); len(got) != 0 {
		t.Errorf("another partner sees %q", got)
	}
	page := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/associations?limit=1", nil), 200).JSON(t)
	cursor := page["nextCursor"].(string)
	for _, q := range []string{"limit=0", "limit=101", "tenantId=x", "productId=nope", "status=Approved", "cursor=abc",
		"cursor=" + cursor + "&productId=teams", "cursor=" + cursor[:len(cursor)-2] + "xx"} {
		if r := apitest.Call(t, &p1, "GET", "/associations?"+q, nil); r.Status != 400 || r.Code(t) != "invalid_input" {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := apitest.Call(t, &p2, "GET", "/associations?cursor="+cursor, nil); r.Status != 400 {
		t.Errorf("another partner's cursor: %d %s", r.Status, r.Body)
	}

	// The same rows as CSV, paged by Link.
	header, rows, pages := readCSV(t, &p1, "/associations?limit=2")
	if strings.Join(header, ",") != "tenantId,domain,customerName,productId,subscriptionId,claimId,mpnId,since" || len(rows) != 3 || pages != 2 {
		t.Fatalf("CSV: %v, %d rows, %d pages", header, len(rows), pages)
	}
	var fromCSV []string
	for _, r := range rows {
		fromCSV = append(fromCSV, strings.TrimSpace(r["tenantId"]+" "+r["productId"]+" "+r["claimId"]+" "+r["subscriptionId"]))
	}
	slices.Sort(fromCSV)
	if !slices.Equal(fromCSV, want) {
		t.Errorf("CSV rows %q", fromCSV)
	}

	// Ended: its units are no longer listed.
	apitest.Expect(t, apitest.Call(t, &p1, "POST", "/claims/"+a.id+"/disassociate", map[string]any{"reason": "Moved on."}), 200)
	if got := held(t, &p1, ""); len(got) != 1 || got[0] != want[2] {
		t.Errorf("after the end: %q", got)
	}
}
