package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

func TestCatalogAndTemplate(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", false)
	items := apitest.Expect(t, apitest.Call(t, &u, "GET", "/products", nil), 200).JSON(t)["items"].([]any)
	if len(items) < 20 || items[0].(map[string]any)["associationUnit"] == nil {
		t.Fatalf("catalog %v", items)
	}
	url := apitest.Expect(t, apitest.Call(t, &u, "GET", "/evidence-template", nil), 200).JSON(t)["url"].(string)
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("template download %v %v", resp, err)
	}
	resp.Body.Close()
	if r := apitest.Call(t, &u, "GET", "/products?x=1", nil); r.Status != 400 || r.Code(t) != "invalid_input" || r.Fields(t)[0] != "x" {
		t.Fatalf("unknown query parameter: %d %s", r.Status, r.Body)
	}
}

func TestCreateGetPatchDelete(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", true)
	body := apitest.DraftBody(false)
	r := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201)
	c := r.JSON(t)
	id := c["id"].(string)
	if c["status"] != "Draft" || c["version"].(float64) != 1 || r.Header.Get("Location") != "/claims/"+id || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("create: %v %v", c, r.Header)
	}
	if ev, ok := c["evidence"].([]any); !ok || len(ev) != 0 {
		t.Fatalf("evidence must be an empty list: %v", c["evidence"])
	}
	// Merge patch: add fields, remove one with null; markup stays text.
	r = apitest.Expect(t, apitest.Call(t, &u, "PATCH", "/claims/"+id, `{"name":"<b>Teams</b>","comments":"a\nb","customer":{"name":null}}`, "Content-Type", "application/merge-patch+json"), 200)
	c = r.JSON(t)
	cust := c["customer"].(map[string]any)
	if c["name"] != "<b>Teams</b>" || c["comments"] != "a\nb" || cust["name"] != nil || cust["domain"] != body["customer"].(map[string]any)["domain"] || c["version"].(float64) != 2 {
		t.Fatalf("patched: %v", c)
	}
	// If-Match: honoured when given.
	if r := apitest.Call(t, &u, "PATCH", "/claims/"+id, `{"name":"x"}`, "If-Match", `"1"`); r.Status != 412 || r.Code(t) != "version_mismatch" {
		t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
	}
	apitest.Expect(t, apitest.Call(t, &u, "PATCH", "/claims/"+id, `{"name":"Teams"}`, "If-Match", `"2"`), 200)
	// Bad patches change nothing.
	for _, tc := range []struct {
		body, code string
		status     int
		field      string
	}{
		{`{"status":"Approved"}`, "invalid_input", 400, "status"},
		{`{"products":[{"id":"power-bi-pro"}]}`, "invalid_input", 422, "products[0].id"},
		{`{"customer":{"tenantId":5}}`, "invalid_input", 400, "customer.tenantId"},
		{`{"mpnId":"999"}`, "invalid_input", 422, "mpnId"},
		{`[1]`, "invalid_input", 400, ""},
		{`{"name":`, "invalid_input", 400, ""},
	} {
		r := apitest.Call(t, &u, "PATCH", "/claims/"+id, tc.body)
		if r.Status != tc.status || r.Code(t) != tc.code || (tc.field != "" && !slices.Contains(r.Fields(t), tc.field)) {
			t.Errorf("patch %s: %d %s", tc.body, r.Status, r.Body)
		}
	}
	c = apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)
	if c["version"].(float64) != 3 || c["name"] != "Teams" {
		t.Fatalf("refused patches changed the claim: %v", c)
	}
	hist := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any)
	var actions []string
	for _, e := range hist {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, ",") != "created,updated,updated" {
		t.Fatalf("history %v", actions)
	}
	apitest.Expect(t, apitest.Call(t, &u, "DELETE", "/claims/"+id, nil), 204)
	if r := apitest.Call(t, &u, "GET", "/claims/"+id, nil); r.Status != 404 || r.Code(t) != "not_found" {
		t.Fatalf("deleted: %d", r.Status)
	}
}

func TestCreateRules(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", true)
	bad := apitest.DraftBody(false)
	bad["customer"] = map[string]any{"tenantId": "nope", "domain": "bad_domain"}
	bad["solutionArea"] = "Microsoft365"
	bad["activity"] = "RevenueAssociation"
	bad["mpnId"] = "7654321"
	r := apitest.Call(t, &u, "POST", "/claims", bad)
	if r.Status != 422 || r.Code(t) != "invalid_input" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if f := r.Fields(t); !slices.Contains(f, "customer.tenantId") || !slices.Contains(f, "customer.domain") || !slices.Contains(f, "activity") || !slices.Contains(f, "mpnId") {
		t.Fatalf("all errors at once: %v", f)
	}
	// A subscriptionId given must be a GUID: null or blank is not "all
	// subscriptions" (that is leaving it out), on create and in a patch.
	for _, sub := range []any{nil, "", "  "} {
		ba := apitest.DraftBody(false)
		ba["solutionArea"], ba["activity"] = "BusinessApplications", "Usage"
		ba["products"] = []any{map[string]any{"id": "power-apps"}, map[string]any{"id": "power-apps", "subscriptionId": sub}}
		r := apitest.Call(t, &u, "POST", "/claims", ba)
		if r.Status != 422 || !slices.Equal(r.Fields(t), []string{"products[1].subscriptionId"}) {
			t.Fatalf("subscriptionId %q: %d %s", sub, r.Status, r.Body)
		}
		ba["products"] = []any{map[string]any{"id": "power-apps"}}
		id := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", ba), 201).JSON(t)["id"].(string)
		patch := map[string]any{"products": []any{map[string]any{"id": "power-apps", "subscriptionId": sub}}}
		if r := apitest.Call(t, &u, "PATCH", "/claims/"+id, patch); r.Status != 422 || !slices.Equal(r.Fields(t), []string{"products[0].subscriptionId"}) {
			t.Fatalf("patch subscriptionId %q: %d %s", sub, r.Status, r.Body)
		}
	}
	missing := map[string]any{"mpnId": "1234567"}
	if r := apitest.Call(t, &u, "POST", "/claims", missing); r.Status != 422 || len(r.Fields(t)) != 4 {
		t.Fatalf("required: %d %s", r.Status, r.Body)
	}
	for _, body := range []string{`{"mpnId":`, `"x"`, "\xff\xfe", `{"mpnId":"1"} {"x":1}`, strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"customer":{"tenantId":"a","foo":1},"bar":true}`} {
		r := apitest.Call(t, &u, "POST", "/claims", body)
		if r.Status != 400 || r.Code(t) != "invalid_input" {
			t.Errorf("body %.30q: %d %s", body, r.Status, r.Body)
		}
	}
	r = apitest.Call(t, &u, "POST", "/claims", `{"customer":{"tenantId":"a","foo":1},"bar":true}`)
	if f := r.Fields(t); !slices.Contains(f, "customer.foo") || !slices.Contains(f, "bar") {
		t.Fatalf("unknown fields by path: %v", f)
	}
	huge := `{"comments":"` + strings.Repeat("x", 70<<10) + `"}`
	if r := apitest.Call(t, &u, "POST", "/claims", huge); r.Status != 413 || r.Code(t) != "payload_too_large" {
		t.Fatalf("huge: %d", r.Status)
	}
	if r := apitest.Call(t, &u, "POST", "/claims", apitest.DraftBody(false), "Content-Type", "text/plain"); r.Status != 415 {
		t.Fatalf("text/plain: %d", r.Status)
	}
}

func TestIdempotencyKey(t *testing.T) {
	u := apitest.NewUser(t, "idem-partner", true)
	body := apitest.DraftBody(false)
	run := fmt.Sprint(time.Now().UnixNano())
	// A blank key is refused, not taken as none.
	if r := apitest.Call(t, &u, "POST", "/claims", body, "Idempotency-Key", " "); r.Status != 400 || r.Code(t) != "invalid_input" {
		t.Fatalf("blank Idempotency-Key: %d %s", r.Status, r.Body)
	}
	first := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run), 201).JSON(t)
	again := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run), 201).JSON(t)
	if first["id"] != again["id"] {
		t.Fatalf("same key and body made a second claim")
	}
	other := apitest.DraftBody(false)
	if r := apitest.Call(t, &u, "POST", "/claims", other, "Idempotency-Key", "key-1-"+run); r.Status != 409 || r.Code(t) != "idempotency_conflict" {
		t.Fatalf("other body: %d %s", r.Status, r.Body)
	}
	// The same key is another partner's own.
	v := apitest.NewUser(t, "idem-other", true)
	if r := apitest.Call(t, &v, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run); r.Status != 201 || r.JSON(t)["id"] == first["id"] {
		t.Fatalf("keys are per partner: %d", r.Status)
	}
	// Racing requests with one key: one claim.
	race := apitest.DraftBody(false)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := apitest.Call(t, &u, "POST", "/claims", race, "Idempotency-Key", "race-key-"+run)
			if r.Status == 201 {
				ids[i] = r.JSON(t)["id"].(string)
			} else {
				t.Errorf("racing create: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("racing creates made several claims: %v", ids)
		}
	}
	list := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?tenantId="+race["customer"].(map[string]any)["tenantId"].(string), nil), 200).JSON(t)
	if n := len(list["items"].([]any)); n != 1 {
		t.Fatalf("%d claims for the raced tenant", n)
	}
}

func TestConcurrentPatchesLoseNothing(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", true)
	id := apitest.CreateClaim(t, &u, false)
	fields := []string{`{"name":"N"}`, `{"comments":"C"}`, `{"customerContact":{"name":"Ana"}}`, `{"partnerContact":{"name":"Pat"}}`,
		`{"products":[{"id":"teams"}]}`, `{"technicalContact":{"title":"CTO"}}`}
	var wg sync.WaitGroup
	for _, f := range fields {
		wg.Add(1)
		go func() { defer wg.Done(); apitest.Expect(t, apitest.Call(t, &u, "PATCH", "/claims/"+id, f), 200) }()
	}
	wg.Wait()
	c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)
	if c["name"] != "N" || c["comments"] != "C" || c["customerContact"] == nil || c["partnerContact"] == nil || c["technicalContact"] == nil || len(c["products"].([]any)) != 1 {
		t.Fatalf("an update was lost: %v", c)
	}
	if c["version"].(float64) != float64(1+len(fields)) {
		t.Fatalf("version %v", c["version"])
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	u := apitest.NewUser(t, fmt.Sprintf("lister-%d", time.Now().UnixNano()), true)
	var ids []string
	for range 5 {
		ids = append(ids, apitest.CreateClaim(t, &u, false))
	}
	var got []string
	cursor := ""
	for i := 0; i < 5; i++ {
		q := "/claims?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := apitest.Expect(t, apitest.Call(t, &u, "GET", q, nil), 200).JSON(t)
		for _, c := range page["items"].([]any) {
			got = append(got, c.(map[string]any)["id"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	slices.Reverse(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("got %v, want %v", got, ids)
	}
	// An empty value is a value the parameter's format refuses (the
	// OpenAPI document says so), not the parameter left out.
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=abc", "status=Nope", "tenantId=x", "sort=asc",
		"tenantId=", "status=", "limit=", "cursor=", "status=Draft&tenantId="} {
		if r := apitest.Call(t, &u, "GET", "/claims?"+q, nil); r.Status != 400 || r.Code(t) != "invalid_input" {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	page := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?status=Draft&limit=100", nil), 200).JSON(t)
	if len(page["items"].([]any)) != 5 || page["nextCursor"] != nil {
		t.Fatalf("filter: %v", page)
	}
}

func TestEvidenceRules(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", true)
	id := apitest.CreateClaim(t, &u, true)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"fileName": "../../etc/passwd", "contentType": "application/pdf", "size": 10}, "fileName"},
		{map[string]any{"fileName": "a\\b.pdf", "contentType": "application/pdf", "size": 10}, "fileName"},
		{map[string]any{"fileName": "x.html", "contentType": "text/html", "size": 10}, "contentType"},
		{map[string]any{"fileName": "x.pdf", "contentType": "application/pdf", "size": 10<<20 + 1}, "size"},
		{map[string]any{"fileName": "x.pdf", "contentType": "application/pdf", "size": 0}, "size"},
	} {
		r := apitest.Call(t, &u, "POST", "/claims/"+id+"/evidence", tc.body)
		if r.Status != 422 || !slices.Contains(r.Fields(t), tc.field) {
			t.Errorf("%v: %d %s", tc.body, r.Status, r.Body)
		}
	}
	ev := apitest.Upload(t, &u, id, apitest.PDF)
	if ev["uploaded"] != false {
		t.Fatalf("uploaded before anyone checked: %v", ev)
	}
	c := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202).JSON(t)
	evs := c["evidence"].([]any)
	if c["status"] != "Submitted" || len(evs) != 1 || evs[0].(map[string]any)["uploaded"] != true {
		t.Fatalf("submit: %v", c)
	}
	if r := apitest.Call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "x.pdf", "contentType": "application/pdf", "size": 10}); r.Status != 409 || r.Code(t) != "claim_locked" {
		t.Fatalf("evidence after submit: %d %s", r.Status, r.Body)
	}
}

func TestSubmitAndLifecycleErrors(t *testing.T) {
	u := apitest.NewUser(t, "fabrikam", true)
	id := apitest.CreateClaim(t, &u, false)
	r := apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil)
	if r.Status != 422 || r.Code(t) != "incomplete" {
		t.Fatalf("incomplete submit: %d %s", r.Status, r.Body)
	}
	for _, f := range []string{"name", "products", "customerContact.email", "partnerContact.name", "evidence"} {
		if !slices.Contains(r.Fields(t), f) {
			t.Errorf("missing %s not listed: %v", f, r.Fields(t))
		}
	}
	for _, path := range []string{"withdraw", "respond", "dispute"} {
		body := map[string]any{}
		if path == "respond" {
			body["comment"] = "x"
		}
		if path == "dispute" {
			body["reason"] = "x"
		}
		if r := apitest.Call(t, &u, "POST", "/claims/"+id+"/"+path, body); r.Status != 409 || r.Code(t) != "invalid_transition" {
			t.Errorf("%s of a Draft: %d %s", path, r.Status, r.Body)
		}
	}
	sid := apitest.Submitted(t, &u)
	if r := apitest.Call(t, &u, "POST", "/claims/"+sid+"/submit", nil); r.Status != 409 || r.Code(t) != "invalid_transition" {
		t.Fatalf("second submit: %d", r.Status)
	}
	for _, m := range []string{"PATCH", "DELETE"} {
		if r := apitest.Call(t, &u, m, "/claims/"+sid, `{"name":"x"}`); r.Status != 409 || r.Code(t) != "claim_locked" {
			t.Errorf("%s after submit: %d %s", m, r.Status, r.Body)
		}
	}
	c := apitest.WaitStatus(t, &u, sid, "PendingCustomer")
	if c["optOutDeadline"] == nil {
		t.Fatalf("no deadline: %v", c)
	}
	c = apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+sid+"/withdraw", nil), 200).JSON(t)
	if c["status"] != "Withdrawn" || c["statusReason"].(map[string]any)["code"] != "withdrawn" {
		t.Fatalf("withdraw: %v", c)
	}
	if r := apitest.Call(t, &u, "POST", "/claims/"+sid+"/dispute", map[string]any{"reason": "x"}); r.Status != 409 {
		t.Fatalf("dispute of a withdrawal: %d", r.Status)
	}
}
