package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cpor-claims/claims/local/apitest"
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
		return apitest.DraftBody(false)
	case route == "POST /imports":
		return map[string]any{"fileName": "claims.csv", "size": 10}
	case strings.HasPrefix(route, "PATCH"):
		return map[string]any{"name": "renamed"}
	case route == "POST /webhooks":
		return map[string]any{"url": "http://127.0.0.1:9/hook"}
	}
	return nil
}

func signed(t *testing.T, claims map[string]any, secret string) apitest.User {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return apitest.User{Token: tok}
}

// TestAuthorizationMatrix covers every API route of the template (a new
// route is covered without editing this test) for each kind of caller.
func TestAuthorizationMatrix(t *testing.T) {
	owner := apitest.NewUser(t, "matrix-owner", true)
	reader := apitest.NewUser(t, "matrix-owner", false)
	stranger := apitest.NewUser(t, "matrix-stranger", true)
	foreignMPN := apitest.NewUser(t, "matrix-owner", true, "7777777")
	expired := runner.SampleClaims(time.Now().Add(-24 * time.Hour))
	expiredUser := signed(t, expired, runner.DefaultJWTSecret)
	badSig := signed(t, runner.SampleClaims(time.Now()), "not-the-secret")
	noExp := runner.SampleClaims(time.Now())
	delete(noExp, "exp")
	noExpUser := signed(t, noExp, runner.DefaultJWTSecret)
	noneAlg := apitest.User{Token: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(badSig.Token, ".")[1] + "."}

	routes := rt.Routes()
	if len(routes) < 15 {
		t.Fatalf("routes %v", routes)
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		if apitest.CustomerRoute(path) {
			continue // the customer's routes: no authorizer (TestOptOutNeedsNoToken, TestDeclineInChromium)
		}
		// Webhooks are the IncentivesAdmin's, reads included (API.md).
		write := method != "GET" || strings.HasPrefix(path, "/webhooks")
		t.Run(route, func(t *testing.T) {
			// A fresh claim per route, so destructive routes do not interfere.
			id := apitest.CreateClaim(t, &owner, false)
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
				u    *apitest.User
			}{{"no token", nil}, {"expired", &expiredUser}, {"wrong signature", &badSig}, {"no exp", &noExpUser}, {"alg none", &noneAlg}, {"garbage", &apitest.User{Token: "x.y.z"}}} {
				r := apitest.Call(t, bad.u, method, p, bodyFor(route))
				if r.Status != 401 || string(r.Body) != `{"message":"Unauthorized"}` {
					t.Errorf("%s: %d %s", bad.name, r.Status, r.Body)
				}
			}
			// Another partner: its claims do not exist for them.
			if strings.Contains(path, "{id}") {
				r := apitest.Call(t, &stranger, method, p, bodyFor(route))
				if r.Status != 404 || r.Code(t) != "not_found" {
					t.Errorf("other partner: %d %s", r.Status, r.Body)
				}
			}
			// A reader of the partner: reads yes, writes 403.
			r := apitest.Call(t, &reader, method, p, bodyFor(route))
			if write && (r.Status != 403 || r.Code(t) != "forbidden") {
				t.Errorf("reader on a write: %d %s", r.Status, r.Body)
			}
			if !write && r.Status != 200 {
				t.Errorf("reader on a read: %d %s", r.Status, r.Body)
			}
			// An admin of the partner whose mpn_ids do not name the claim's
			// mpnId: 403 on every write of the claim, before its body is
			// looked at (a broken body changes nothing), and the claim is
			// untouched; reads stay open to the partner. (A webhook is the
			// partner's, not an MPN ID's: any of its admins manages it.)
			if write && strings.Contains(path, "{id}") && !strings.HasPrefix(path, "/webhooks/") {
				for _, body := range []any{bodyFor(route), "{not json"} {
					r := apitest.Call(t, &foreignMPN, method, p, body)
					if r.Status != 403 || r.Code(t) != "forbidden" || !strings.Contains(string(r.Body), "MPN") {
						t.Errorf("foreign MPN on a write (body %v): %d %s", body, r.Status, r.Body)
					}
				}
				if c := apitest.Expect(t, apitest.Call(t, &owner, "GET", "/claims/"+id, nil), 200).JSON(t); c["version"].(float64) != 1 {
					t.Errorf("a caller without the claim's MPN ID changed it: %v", c)
				}
			}
			if !write {
				if r := apitest.Call(t, &foreignMPN, method, p, nil); r.Status != 200 {
					t.Errorf("foreign MPN on a read: %d %s", r.Status, r.Body)
				}
			}
			// The admin: the route answers as its contract says (a Draft
			// cannot be responded to, withdrawn or disputed).
			r = apitest.Call(t, &owner, method, p, bodyFor(route))
			want := map[string]int{
				"POST /claims": 201, "PATCH /claims/{id}": 200, "DELETE /claims/{id}": 204, "POST /claims/{id}/evidence": 201,
				"POST /claims/{id}/submit": 422, "POST /claims/{id}/respond": 409, "POST /claims/{id}/withdraw": 409,
				"POST /claims/{id}/dispute": 409, "POST /claims/{id}/disassociate": 409, "POST /imports": 201,
				"POST /webhooks": 201, "DELETE /webhooks/{id}": 204, "POST /webhooks/{id}/deliveries/{deliveryId}/retry": 202,
			}[route]
			if want == 0 {
				want = 200
			}
			if r.Status != want {
				t.Errorf("admin: %d, want %d: %s", r.Status, want, r.Body)
			}
		})
	}
	// An MPN ID the caller may not claim for.
	if r := apitest.Call(t, &foreignMPN, "POST", "/claims", apitest.DraftBody(false)); r.Status != 422 || r.Fields(t)[0] != "mpnId" {
		t.Fatalf("foreign MPN: %d %s", r.Status, r.Body)
	}
	// mpn_ids and roles arrive in any of their forms.
	for _, form := range []any{[]any{"1234567"}, "1234567 7654321", `["7654321","1234567"]`} {
		c := runner.SampleClaims(time.Now())
		c["mpn_ids"] = form
		c["roles"] = "Reader IncentivesAdmin"
		u := signed(t, c, runner.DefaultJWTSecret)
		if r := apitest.Call(t, &u, "POST", "/claims", apitest.DraftBody(false)); r.Status != 201 {
			t.Errorf("mpn_ids as %v: %d %s", form, r.Status, r.Body)
		}
	}
}

func TestPartnersSeeOnlyTheirOwnClaims(t *testing.T) {
	a := apitest.NewUser(t, "iso-a", true)
	b := apitest.NewUser(t, "iso-b", true)
	ida := apitest.CreateClaim(t, &a, false)
	apitest.CreateClaim(t, &b, false)
	for _, u := range []apitest.User{a, b} {
		page := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=100", nil), 200).JSON(t)
		for _, c := range page["items"].([]any) {
			if c.(map[string]any)["partnerId"] != u.Partner {
				t.Fatalf("%s listed another partner's claim", u.Partner)
			}
		}
	}
	if r := apitest.Call(t, &b, "GET", "/claims/"+ida+"/history", nil); r.Status != 404 {
		t.Fatalf("history of another partner's claim: %d", r.Status)
	}
	if c := apitest.Expect(t, apitest.Call(t, &a, "GET", "/claims/"+ida, nil), 200).JSON(t); c["version"].(float64) != 1 {
		t.Fatalf("another partner changed the claim: %v", c)
	}
}

func TestOptOutNeedsNoToken(t *testing.T) {
	for _, m := range []string{"GET", "POST"} {
		r := apitest.Call(t, nil, m, "/opt-out/"+strings.Repeat("A", 43), nil)
		if r.Status != 404 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s unknown token: %d %s", m, r.Status, r.Body)
		}
	}
}
