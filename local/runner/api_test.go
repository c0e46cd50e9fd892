package runner_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCatalogAndTemplate(t *testing.T) {
	u := newUser(t, "fabrikam", false)
	items := expect(t, call(t, &u, "GET", "/products", nil), 200).json(t)["items"].([]any)
	if len(items) < 20 || items[0].(map[string]any)["associationUnit"] == nil {
		t.Fatalf("catalog %v", items)
	}
	url := expect(t, call(t, &u, "GET", "/evidence-template", nil), 200).json(t)["url"].(string)
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("template download %v %v", resp, err)
	}
	resp.Body.Close()
	if r := call(t, &u, "GET", "/products?x=1", nil); r.status != 400 || r.code(t) != "invalid_input" || r.fields(t)[0] != "x" {
		t.Fatalf("unknown query parameter: %d %s", r.status, r.body)
	}
}

func TestCreateGetPatchDelete(t *testing.T) {
	u := newUser(t, "fabrikam", true)
	body := draftBody(false)
	r := expect(t, call(t, &u, "POST", "/claims", body), 201)
	c := r.json(t)
	id := c["id"].(string)
	if c["status"] != "Draft" || c["version"].(float64) != 1 || r.header.Get("Location") != "/claims/"+id || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %v %v", c, r.header)
	}
	if ev, ok := c["evidence"].([]any); !ok || len(ev) != 0 {
		t.Fatalf("evidence must be an empty list: %v", c["evidence"])
	}
	// Merge patch: add fields, remove one with null; markup stays text.
	r = expect(t, call(t, &u, "PATCH", "/claims/"+id, `{"name":"<b>Teams</b>","comments":"a\nb","customer":{"name":null}}`, "Content-Type", "application/merge-patch+json"), 200)
	c = r.json(t)
	cust := c["customer"].(map[string]any)
	if c["name"] != "<b>Teams</b>" || c["comments"] != "a\nb" || cust["name"] != nil || cust["domain"] != body["customer"].(map[string]any)["domain"] || c["version"].(float64) != 2 {
		t.Fatalf("patched: %v", c)
	}
	// If-Match: honoured when given.
	if r := call(t, &u, "PATCH", "/claims/"+id, `{"name":"x"}`, "If-Match", `"1"`); r.status != 412 || r.code(t) != "version_mismatch" {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	expect(t, call(t, &u, "PATCH", "/claims/"+id, `{"name":"Teams"}`, "If-Match", `"2"`), 200)
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
		r := call(t, &u, "PATCH", "/claims/"+id, tc.body)
		if r.status != tc.status || r.code(t) != tc.code || (tc.field != "" && !slices.Contains(r.fields(t), tc.field)) {
			t.Errorf("patch %s: %d %s", tc.body, r.status, r.body)
		}
	}
	c = expect(t, call(t, &u, "GET", "/claims/"+id, nil), 200).json(t)
	if c["version"].(float64) != 3 || c["name"] != "Teams" {
		t.Fatalf("refused patches changed the claim: %v", c)
	}
	hist := expect(t, call(t, &u, "GET", "/claims/"+id+"/history", nil), 200).json(t)["items"].([]any)
	var actions []string
	for _, e := range hist {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, ",") != "created,updated,updated" {
		t.Fatalf("history %v", actions)
	}
	expect(t, call(t, &u, "DELETE", "/claims/"+id, nil), 204)
	if r := call(t, &u, "GET", "/claims/"+id, nil); r.status != 404 || r.code(t) != "not_found" {
		t.Fatalf("deleted: %d", r.status)
	}
}

func TestCreateRules(t *testing.T) {
	u := newUser(t, "fabrikam", true)
	bad := draftBody(false)
	bad["customer"] = map[string]any{"tenantId": "nope", "domain": "bad_domain"}
	bad["solutionArea"] = "Microsoft365"
	bad["activity"] = "RevenueAssociation"
	bad["mpnId"] = "7654321"
	r := call(t, &u, "POST", "/claims", bad)
	if r.status != 422 || r.code(t) != "invalid_input" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if f := r.fields(t); !slices.Contains(f, "customer.tenantId") || !slices.Contains(f, "customer.domain") || !slices.Contains(f, "activity") || !slices.Contains(f, "mpnId") {
		t.Fatalf("all errors at once: %v", f)
	}
	// A subscriptionId given must be a GUID: null or blank is not "all
	// subscriptions" (that is leaving it out), on create and in a patch.
	for _, sub := range []any{nil, "", "  "} {
		ba := draftBody(false)
		ba["solutionArea"], ba["activity"] = "BusinessApplications", "Usage"
		ba["products"] = []any{map[string]any{"id": "power-apps"}, map[string]any{"id": "power-apps", "subscriptionId": sub}}
		r := call(t, &u, "POST", "/claims", ba)
		if r.status != 422 || !slices.Equal(r.fields(t), []string{"products[1].subscriptionId"}) {
			t.Fatalf("subscriptionId %q: %d %s", sub, r.status, r.body)
		}
		ba["products"] = []any{map[string]any{"id": "power-apps"}}
		id := expect(t, call(t, &u, "POST", "/claims", ba), 201).json(t)["id"].(string)
		patch := map[string]any{"products": []any{map[string]any{"id": "power-apps", "subscriptionId": sub}}}
		if r := call(t, &u, "PATCH", "/claims/"+id, patch); r.status != 422 || !slices.Equal(r.fields(t), []string{"products[0].subscriptionId"}) {
			t.Fatalf("patch subscriptionId %q: %d %s", sub, r.status, r.body)
		}
	}
	missing := map[string]any{"mpnId": "1234567"}
	if r := call(t, &u, "POST", "/claims", missing); r.status != 422 || len(r.fields(t)) != 4 {
		t.Fatalf("required: %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"mpnId":`, `"x"`, "\xff\xfe", `{"mpnId":"1"} {"x":1}`, strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"customer":{"tenantId":"a","foo":1},"bar":true}`} {
		r := call(t, &u, "POST", "/claims", body)
		if r.status != 400 || r.code(t) != "invalid_input" {
			t.Errorf("body %.30q: %d %s", body, r.status, r.body)
		}
	}
	r = call(t, &u, "POST", "/claims", `{"customer":{"tenantId":"a","foo":1},"bar":true}`)
	if f := r.fields(t); !slices.Contains(f, "customer.foo") || !slices.Contains(f, "bar") {
		t.Fatalf("unknown fields by path: %v", f)
	}
	huge := `{"comments":"` + strings.Repeat("x", 70<<10) + `"}`
	if r := call(t, &u, "POST", "/claims", huge); r.status != 413 || r.code(t) != "payload_too_large" {
		t.Fatalf("huge: %d", r.status)
	}
	if r := call(t, &u, "POST", "/claims", draftBody(false), "Content-Type", "text/plain"); r.status != 415 {
		t.Fatalf("text/plain: %d", r.status)
	}
}

func TestIdempotencyKey(t *testing.T) {
	u := newUser(t, "idem-partner", true)
	body := draftBody(false)
	run := fmt.Sprint(time.Now().UnixNano())
	// A blank key is refused, not taken as none.
	if r := call(t, &u, "POST", "/claims", body, "Idempotency-Key", " "); r.status != 400 || r.code(t) != "invalid_input" {
		t.Fatalf("blank Idempotency-Key: %d %s", r.status, r.body)
	}
	first := expect(t, call(t, &u, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run), 201).json(t)
	again := expect(t, call(t, &u, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run), 201).json(t)
	if first["id"] != again["id"] {
		t.Fatalf("same key and body made a second claim")
	}
	other := draftBody(false)
	if r := call(t, &u, "POST", "/claims", other, "Idempotency-Key", "key-1-"+run); r.status != 409 || r.code(t) != "idempotency_conflict" {
		t.Fatalf("other body: %d %s", r.status, r.body)
	}
	// The same key is another partner's own.
	v := newUser(t, "idem-other", true)
	if r := call(t, &v, "POST", "/claims", body, "Idempotency-Key", "key-1-"+run); r.status != 201 || r.json(t)["id"] == first["id"] {
		t.Fatalf("keys are per partner: %d", r.status)
	}
	// Racing requests with one key: one claim.
	race := draftBody(false)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := call(t, &u, "POST", "/claims", race, "Idempotency-Key", "race-key-"+run)
			if r.status == 201 {
				ids[i] = r.json(t)["id"].(string)
			} else {
				t.Errorf("racing create: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("racing creates made several claims: %v", ids)
		}
	}
	list := expect(t, call(t, &u, "GET", "/claims?tenantId="+race["customer"].(map[string]any)["tenantId"].(string), nil), 200).json(t)
	if n := len(list["items"].([]any)); n != 1 {
		t.Fatalf("%d claims for the raced tenant", n)
	}
}

func TestConcurrentPatchesLoseNothing(t *testing.T) {
	u := newUser(t, "fabrikam", true)
	id := createClaim(t, &u, false)
	fields := []string{`{"name":"N"}`, `{"comments":"C"}`, `{"customerContact":{"name":"Ana"}}`, `{"partnerContact":{"name":"Pat"}}`,
		`{"products":[{"id":"teams"}]}`, `{"technicalContact":{"title":"CTO"}}`}
	var wg sync.WaitGroup
	for _, f := range fields {
		wg.Add(1)
		go func() { defer wg.Done(); expect(t, call(t, &u, "PATCH", "/claims/"+id, f), 200) }()
	}
	wg.Wait()
	c := expect(t, call(t, &u, "GET", "/claims/"+id, nil), 200).json(t)
	if c["name"] != "N" || c["comments"] != "C" || c["customerContact"] == nil || c["partnerContact"] == nil || c["technicalContact"] == nil || len(c["products"].([]any)) != 1 {
		t.Fatalf("an update was lost: %v", c)
	}
	if c["version"].(float64) != float64(1+len(fields)) {
		t.Fatalf("version %v", c["version"])
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	u := newUser(t, fmt.Sprintf("lister-%d", time.Now().UnixNano()), true)
	var ids []string
	for range 5 {
		ids = append(ids, createClaim(t, &u, false))
	}
	var got []string
	cursor := ""
	for i := 0; i < 5; i++ {
		q := "/claims?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := expect(t, call(t, &u, "GET", q, nil), 200).json(t)
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
		if r := call(t, &u, "GET", "/claims?"+q, nil); r.status != 400 || r.code(t) != "invalid_input" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	page := expect(t, call(t, &u, "GET", "/claims?status=Draft&limit=100", nil), 200).json(t)
	if len(page["items"].([]any)) != 5 || page["nextCursor"] != nil {
		t.Fatalf("filter: %v", page)
	}
}

func TestEvidenceRules(t *testing.T) {
	u := newUser(t, "fabrikam", true)
	id := createClaim(t, &u, true)
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
		r := call(t, &u, "POST", "/claims/"+id+"/evidence", tc.body)
		if r.status != 422 || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("%v: %d %s", tc.body, r.status, r.body)
		}
	}
	ev := upload(t, &u, id, pdf)
	if ev["uploaded"] != false {
		t.Fatalf("uploaded before anyone checked: %v", ev)
	}
	c := expect(t, call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202).json(t)
	evs := c["evidence"].([]any)
	if c["status"] != "Submitted" || len(evs) != 1 || evs[0].(map[string]any)["uploaded"] != true {
		t.Fatalf("submit: %v", c)
	}
	if r := call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "x.pdf", "contentType": "application/pdf", "size": 10}); r.status != 409 || r.code(t) != "claim_locked" {
		t.Fatalf("evidence after submit: %d %s", r.status, r.body)
	}
}

func TestSubmitAndLifecycleErrors(t *testing.T) {
	u := newUser(t, "fabrikam", true)
	id := createClaim(t, &u, false)
	r := call(t, &u, "POST", "/claims/"+id+"/submit", nil)
	if r.status != 422 || r.code(t) != "incomplete" {
		t.Fatalf("incomplete submit: %d %s", r.status, r.body)
	}
	for _, f := range []string{"name", "products", "customerContact.email", "partnerContact.name", "evidence"} {
		if !slices.Contains(r.fields(t), f) {
			t.Errorf("missing %s not listed: %v", f, r.fields(t))
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
		if r := call(t, &u, "POST", "/claims/"+id+"/"+path, body); r.status != 409 || r.code(t) != "invalid_transition" {
			t.Errorf("%s of a Draft: %d %s", path, r.status, r.body)
		}
	}
	sid := submitted(t, &u)
	if r := call(t, &u, "POST", "/claims/"+sid+"/submit", nil); r.status != 409 || r.code(t) != "invalid_transition" {
		t.Fatalf("second submit: %d", r.status)
	}
	for _, m := range []string{"PATCH", "DELETE"} {
		if r := call(t, &u, m, "/claims/"+sid, `{"name":"x"}`); r.status != 409 || r.code(t) != "claim_locked" {
			t.Errorf("%s after submit: %d %s", m, r.status, r.body)
		}
	}
	c := waitStatus(t, &u, sid, "PendingCustomer")
	if c["optOutDeadline"] == nil {
		t.Fatalf("no deadline: %v", c)
	}
	c = expect(t, call(t, &u, "POST", "/claims/"+sid+"/withdraw", nil), 200).json(t)
	if c["status"] != "Withdrawn" || c["statusReason"].(map[string]any)["code"] != "withdrawn" {
		t.Fatalf("withdraw: %v", c)
	}
	if r := call(t, &u, "POST", "/claims/"+sid+"/dispute", map[string]any{"reason": "x"}); r.status != 409 {
		t.Fatalf("dispute of a withdrawal: %d", r.status)
	}
}
