package e2e_test

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// snapshot is what a partner can see of its claims: every claim's version
// and status and the length of its history, in list order.
func snapshot(t *testing.T, u *apitest.User) string {
	t.Helper()
	var b strings.Builder
	cursor := ""
	for {
		path := "/claims?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := apitest.Expect(t, apitest.Call(t, u, "GET", path, nil), 200).JSON(t)
		for _, it := range page["items"].([]any) {
			c := it.(map[string]any)
			id := c["id"].(string)
			n := len(apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any))
			fmt.Fprintf(&b, "%s v%v %v h%d;", id, c["version"], c["status"], n)
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return b.String()
		}
		cursor = next
	}
}

// Hostile requests on the partner routes each get a clear problem+json
// answer (or the gateway's own) and change nothing the partner can see.
func TestHostileInputChangesNothing(t *testing.T) {
	u := apitest.NewUser(t, "hostile-partner", true)
	draft := apitest.CreateClaim(t, &u, true)
	apitest.Upload(t, &u, draft, apitest.PDF)
	other := apitest.NewUser(t, "hostile-other", true)
	apitest.CreateClaim(t, &other, false)
	apitest.CreateClaim(t, &other, false)
	otherCursor := apitest.Expect(t, apitest.Call(t, &other, "GET", "/claims?limit=1", nil), 200).JSON(t)["nextCursor"].(string)
	before := snapshot(t, &u)

	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	withText := func(field, value string) map[string]any {
		b := apitest.DraftBody(true)
		b[field] = value
		return b
	}
	contact := func(name string) map[string]any {
		b := apitest.DraftBody(true)
		b["customerContact"] = map[string]any{"name": name, "title": "CIO", "email": "ana@contoso.example"}
		return b
	}
	tampered := func(c string) string {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(raw) == 0 {
			return c + "x"
		}
		raw[len(raw)/2] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	cases := []struct {
		name         string
		method, path string
		body         any
		status       int
		code         string
	}{
		{"body over the function's limit", "POST", "/claims", `{"comments":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "payload_too_large"},
		{"patch over the limit", "PATCH", "/claims/" + draft, `{"comments":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "payload_too_large"},
		{"deep JSON", "POST", "/claims", deep, 400, "invalid_input"},
		{"deep JSON patch", "PATCH", "/claims/" + draft, deep, 400, "invalid_input"},
		{"invalid UTF-8", "POST", "/claims", "{\"name\":\"\xff\xfe\"}", 400, "invalid_input"},
		{"invalid UTF-8 patch", "PATCH", "/claims/" + draft, "{\"comments\":\"\xc3\x28\"}", 400, "invalid_input"},
		{"control character in a name", "POST", "/claims", withText("name", "Teams\u0007rollout"), 422, "invalid_input"},
		{"NUL in comments", "PATCH", "/claims/" + draft, map[string]any{"comments": "a\u0000b"}, 422, "invalid_input"},
		{"CR/LF in a contact name", "POST", "/claims", contact("Ana\r\nBcc: evil@attacker.example"), 422, "invalid_input"},
		{"LF in the claim name", "PATCH", "/claims/" + draft, map[string]any{"name": "Teams\nBcc: evil@attacker.example"}, 422, "invalid_input"},
		{"tampered cursor", "GET", "/claims?cursor=" + url.QueryEscape(tampered(otherCursor)), nil, 400, "invalid_input"},
		{"another partner's cursor", "GET", "/claims?cursor=" + url.QueryEscape(otherCursor), nil, 400, "invalid_input"},
		{"garbage cursor", "GET", "/claims?cursor=%00%ff", nil, 400, "invalid_input"},
		{"path traversal in a file name", "POST", "/claims/" + draft + "/evidence", map[string]any{"fileName": "../../etc/passwd", "contentType": "application/pdf", "size": 10}, 422, "invalid_input"},
		{"slashes in a file name", "POST", "/claims/" + draft + "/evidence", map[string]any{"fileName": `..\..\boot.ini`, "contentType": "application/pdf", "size": 10}, 422, "invalid_input"},
		{"a type the upload does not take", "POST", "/claims/" + draft + "/evidence", map[string]any{"fileName": "x.html", "contentType": "text/html", "size": 10}, 422, "invalid_input"},
		{"an id that is markup", "GET", "/claims/%3Cscript%3Ealert(1)", nil, 404, "not_found"},
		{"a respond comment over its bound", "POST", "/claims/" + draft + "/respond", map[string]any{"comment": strings.Repeat("x", 5000)}, 422, "invalid_input"},
	}
	for _, c := range cases {
		r := apitest.Call(t, &u, c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %.200s", c.name, r.Status, c.status, r.Body)
			continue
		}
		if got := r.Code(t); got != c.code {
			t.Errorf("%s: code %q, want %q", c.name, got, c.code)
		}
		if strings.Contains(string(r.Body), "evil@attacker") || strings.Contains(string(r.Body), "/etc/passwd") || strings.Contains(string(r.Body), "<script") {
			// The problem names fields, never echoes the hostile value.
			t.Errorf("%s: the answer echoes the input: %s", c.name, r.Body)
		}
	}
	// Over API Gateway's own 10 MiB limit: the gateway answers, no function runs.
	if r := apitest.Call(t, &u, "POST", "/claims", strings.Repeat("x", 10<<20+1)); r.Status != 413 {
		t.Errorf("over the gateway's limit: %d", r.Status)
	}
	// Opt-out tokens of the wrong length or alphabet: the 404 page.
	for _, tok := range []string{"abc", strings.Repeat("A", 43) + "!", strings.Repeat("a", 500), "%2E%2E", "..%5C..%5Cetc", "%00", strings.Repeat("Z", 43)} {
		for _, m := range []string{"GET", "POST"} {
			r := apitest.Call(t, nil, m, "/opt-out/"+tok, nil)
			if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s token %.20q: %d %s", m, tok, r.Status, r.Header.Get("Content-Type"))
			}
		}
	}
	if after := snapshot(t, &u); after != before {
		t.Fatalf("hostile requests changed the partner's claims:\nbefore %s\nafter  %s", before, after)
	}
}

// Markup in every text field is stored and returned as text, and escaped
// where it is shown: the customer's email (read back from SES) and the
// opt-out page.
func TestMarkupIsTextEverywhere(t *testing.T) {
	u := apitest.NewUser(t, "markup-partner", true)
	script := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	body := apitest.DraftBody(true)
	body["name"] = "Rollout " + script
	body["comments"] = "Note " + script
	body["customer"].(map[string]any)["name"] = "Contoso " + script
	contact := body["customerContact"].(map[string]any)
	contact["name"], contact["title"] = "Ana "+script, "CIO "+script
	body["partnerContact"] = map[string]any{"name": "Pat " + script, "email": "pat@fabrikam.example"}
	created := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)
	id := created["id"].(string)
	if created["name"] != "Rollout "+script || created["customer"].(map[string]any)["name"] != "Contoso "+script {
		t.Fatalf("markup not kept as text: %v", created)
	}
	apitest.Upload(t, &u, id, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
	apitest.WaitStatus(t, &u, id, "PendingCustomer")
	var mail map[string]any
	for deadline := time.Now().Add(30 * time.Second); mail == nil; {
		if ms := apitest.EmailsTo(t, contact["email"].(string)); len(ms) > 0 {
			mail = ms[len(ms)-1]
		} else if time.Now().After(deadline) {
			t.Fatal("no email to the customer")
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	h := mail["html"].(string)
	if strings.Contains(h, "<script") || strings.Contains(h, "<img") || !strings.Contains(h, html.EscapeString("<script>")) {
		t.Fatalf("the email's HTML does not escape the partner's text:\n%s", h)
	}
	link := optOutLink.FindStringSubmatch(mail["text"].(string))
	if link == nil {
		t.Fatal("no link in the email")
	}
	page := apitest.Expect(t, apitest.Call(t, nil, "GET", "/opt-out/"+link[1], nil), 200)
	if p := string(page.Body); strings.Contains(p, "<script") || strings.Contains(p, "<img") || !strings.Contains(p, "&lt;script&gt;") {
		t.Fatalf("the opt-out page does not escape the partner's text:\n%s", p)
	}
}
