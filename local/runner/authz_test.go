package runner_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cpor-claims/claims/local/runner"
)

// bodyFor is a valid body for each write route (so that only the caller
// decides the outcome).
func bodyFor(route string) any {
	switch {
	case strings.HasSuffix(route, "/evidence"):
		return map[string]any{"fileName": "sow.pdf", "contentType": "application/pdf", "size": 10}
	case strings.HasSuffix(route, "/respond"):
		return map[string]any{"comment": "done"}
	case strings.HasSuffix(route, "/dispute"):
		return map[string]any{"reason": "see new PoE"}
	case strings.HasSuffix(route, "/disassociate"):
		return map[string]any{"reason": "the engagement ended"}
	case route == "POST /claims":
		return draftBody(false)
	case route == "POST /imports":
		return map[string]any{"fileName": "claims.csv", "size": 10}
	case strings.HasPrefix(route, "PATCH"):
		return map[string]any{"name": "renamed"}
	case route == "POST /webhooks":
		return map[string]any{"url": "http://127.0.0.1:9/hook"}
	}
	return nil
}

func signed(t *testing.T, claims map[string]any, secret string) user {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return user{token: tok}
}

// TestAuthorizationMatrix covers every API route of the template (a new
// route is covered without editing this test) for each kind of caller.
func TestAuthorizationMatrix(t *testing.T) {
	owner := newUser(t, "matrix-owner", true)
	reader := newUser(t, "matrix-owner", false)
	stranger := newUser(t, "matrix-stranger", true)
	foreignMPN := newUser(t, "matrix-owner", true, "7777777")
	expired := runner.SampleClaims(time.Now().Add(-24 * time.Hour))
	expiredUser := signed(t, expired, runner.DefaultJWTSecret)
	badSig := signed(t, runner.SampleClaims(time.Now()), "not-the-secret")
	noExp := runner.SampleClaims(time.Now())
	delete(noExp, "exp")
	noExpUser := signed(t, noExp, runner.DefaultJWTSecret)
	noneAlg := user{token: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(badSig.token, ".")[1] + "."}

	routes := rt.Routes()
	if len(routes) < 15 {
		t.Fatalf("routes %v", routes)
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		if customerRoute(path) {
			continue // the customer's routes: no authorizer (TestOptOutNeedsNoToken, TestDeclineInChromium)
		}
		// Webhooks are the IncentivesAdmin's, reads included (API.md).
		write := method != "GET" || strings.HasPrefix(path, "/webhooks")
		t.Run(route, func(t *testing.T) {
			// A fresh claim per route, so destructive routes do not interfere.
			id := createClaim(t, &owner, false)
			p := pathWithID(t, &owner, path, id)
			if strings.HasPrefix(path, "/webhooks/") {
				p = routePath(t, &owner, path, id)
			}
			if route == "DELETE /webhooks/{id}" {
				hook, _ := register(t, &owner, "http://127.0.0.1:9/deleted")
				p = "/webhooks/" + hook
			}
			for _, bad := range []struct {
				name string
				u    *user
			}{{"no token", nil}, {"expired", &expiredUser}, {"wrong signature", &badSig}, {"no exp", &noExpUser}, {"alg none", &noneAlg}, {"garbage", &user{token: "x.y.z"}}} {
				r := call(t, bad.u, method, p, bodyFor(route))
				if r.status != 401 || string(r.body) != `{"message":"Unauthorized"}` {
					t.Errorf("%s: %d %s", bad.name, r.status, r.body)
				}
			}
			// Another partner: its claims do not exist for them.
			if strings.Contains(path, "{id}") {
				r := call(t, &stranger, method, p, bodyFor(route))
				if r.status != 404 || r.code(t) != "not_found" {
					t.Errorf("other partner: %d %s", r.status, r.body)
				}
			}
			// A reader of the partner: reads yes, writes 403.
			r := call(t, &reader, method, p, bodyFor(route))
			if write && (r.status != 403 || r.code(t) != "forbidden") {
				t.Errorf("reader on a write: %d %s", r.status, r.body)
			}
			if !write && r.status != 200 {
				t.Errorf("reader on a read: %d %s", r.status, r.body)
			}
			// An admin of the partner whose mpn_ids do not name the claim's
			// mpnId: 403 on every write of the claim, before its body is
			// looked at (a broken body changes nothing), and the claim is
			// untouched; reads stay open to the partner. (A webhook is the
			// partner's, not an MPN ID's: any of its admins manages it.)
			if write && strings.Contains(path, "{id}") && !strings.HasPrefix(path, "/webhooks/") {
				for _, body := range []any{bodyFor(route), "{not json"} {
					r := call(t, &foreignMPN, method, p, body)
					if r.status != 403 || r.code(t) != "forbidden" || !strings.Contains(string(r.body), "MPN") {
						t.Errorf("foreign MPN on a write (body %v): %d %s", body, r.status, r.body)
					}
				}
				if c := expect(t, call(t, &owner, "GET", "/claims/"+id, nil), 200).json(t); c["version"].(float64) != 1 {
					t.Errorf("a caller without the claim's MPN ID changed it: %v", c)
				}
			}
			if !write {
				if r := call(t, &foreignMPN, method, p, nil); r.status != 200 {
					t.Errorf("foreign MPN on a read: %d %s", r.status, r.body)
				}
			}
			// The admin: the route answers as its contract says (a Draft
			// cannot be responded to, withdrawn or disputed).
			r = call(t, &owner, method, p, bodyFor(route))
			want := map[string]int{
				"POST /claims": 201, "PATCH /claims/{id}": 200, "DELETE /claims/{id}": 204, "POST /claims/{id}/evidence": 201,
				"POST /claims/{id}/submit": 422, "POST /claims/{id}/respond": 409, "POST /claims/{id}/withdraw": 409,
				"POST /claims/{id}/dispute": 409, "POST /claims/{id}/disassociate": 409, "POST /imports": 201,
				"POST /webhooks": 201, "DELETE /webhooks/{id}": 204, "POST /webhooks/{id}/deliveries/{deliveryId}/retry": 202,
			}[route]
			if want == 0 {
				want = 200
			}
			if r.status != want {
				t.Errorf("admin: %d, want %d: %s", r.status, want, r.body)
			}
		})
	}
	// An MPN ID the caller may not claim for.
	if r := call(t, &foreignMPN, "POST", "/claims", draftBody(false)); r.status != 422 || r.fields(t)[0] != "mpnId" {
		t.Fatalf("foreign MPN: %d %s", r.status, r.body)
	}
	// mpn_ids and roles arrive in any of their forms.
	for _, form := range []any{[]any{"1234567"}, "1234567 7654321", `["7654321","1234567"]`} {
		c := runner.SampleClaims(time.Now())
		c["mpn_ids"] = form
		c["roles"] = "Reader IncentivesAdmin"
		u := signed(t, c, runner.DefaultJWTSecret)
		if r := call(t, &u, "POST", "/claims", draftBody(false)); r.status != 201 {
			t.Errorf("mpn_ids as %v: %d %s", form, r.status, r.body)
		}
	}
}

func TestPartnersSeeOnlyTheirOwnClaims(t *testing.T) {
	a := newUser(t, "iso-a", true)
	b := newUser(t, "iso-b", true)
	ida := createClaim(t, &a, false)
	createClaim(t, &b, false)
	for _, u := range []user{a, b} {
		page := expect(t, call(t, &u, "GET", "/claims?limit=100", nil), 200).json(t)
		for _, c := range page["items"].([]any) {
			if c.(map[string]any)["partnerId"] != u.partner {
				t.Fatalf("%s listed another partner's claim", u.partner)
			}
		}
	}
	if r := call(t, &b, "GET", "/claims/"+ida+"/history", nil); r.status != 404 {
		t.Fatalf("history of another partner's claim: %d", r.status)
	}
	if c := expect(t, call(t, &a, "GET", "/claims/"+ida, nil), 200).json(t); c["version"].(float64) != 1 {
		t.Fatalf("another partner changed the claim: %v", c)
	}
}

func TestOptOutNeedsNoToken(t *testing.T) {
	for _, m := range []string{"GET", "POST"} {
		r := call(t, nil, m, "/opt-out/"+strings.Repeat("A", 43), nil)
		if r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s unknown token: %d %s", m, r.status, r.body)
		}
	}
}
