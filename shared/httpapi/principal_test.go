package httpapi

import (
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func withClaims(claims map[string]string) events.APIGatewayV2HTTPRequest {
	var req events.APIGatewayV2HTTPRequest
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
	}
	return req
}

func TestListClaim(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"[1234567 7654321]", []string{"1234567", "7654321"}},
		{"[IncentivesAdmin]", []string{"IncentivesAdmin"}},
		{"[]", nil},
		{`["1234567","7654321"]`, []string{"1234567", "7654321"}},
		{`[1234567, 7654321]`, []string{"1234567", "7654321"}},
		{`[" a ", ""]`, []string{"a"}},
		{"1234567 7654321", []string{"1234567", "7654321"}},
		{"1234567,7654321", []string{"1234567", "7654321"}},
		{" 1234567 , 7654321 ", []string{"1234567", "7654321"}},
		{"IncentivesAdmin", []string{"IncentivesAdmin"}},
		// JSON-like but not JSON (or not an array of strings and numbers):
		// nothing, never the words inside.
		{`["a" "b"]`, nil},
		{`[{"x":1}]`, nil},
		{`["Reader", IncentivesAdmin]`, nil},
		{`["Reader"] IncentivesAdmin`, nil},
		{`["Reader",`, nil},
		{`[Reader, IncentivesAdmin`, nil},
		{`{"roles":["IncentivesAdmin"]}`, nil},
		{`[Reader IncentivesAdmin]`, []string{"Reader", "IncentivesAdmin"}}, // the gateway's form
	}
	for _, tt := range tests {
		got := ListClaim(tt.in)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ListClaim(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrincipalFrom(t *testing.T) {
	full := map[string]string{
		"sub": "user-1", "partner_id": "p-1", "partner_name": "Fabrikam",
		"mpn_ids": "[1234567 7654321]", "roles": `["Reader","IncentivesAdmin"]`,
	}
	p, err := PrincipalFrom(withClaims(full))
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Sub: "user-1", PartnerID: "p-1", PartnerName: "Fabrikam",
		MPNIDs: []string{"1234567", "7654321"}, Roles: []string{"Reader", "IncentivesAdmin"}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("principal %+v", p)
	}
	if !p.IsAdmin() {
		t.Fatal("admin check")
	}

	unauthorized := map[string]events.APIGatewayV2HTTPRequest{
		"no authorizer":   {},
		"no jwt":          {RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}}},
		"nil claims":      withClaims(nil),
		"no sub":          withClaims(map[string]string{"partner_id": "p-1"}),
		"blank sub":       withClaims(map[string]string{"sub": "  ", "partner_id": "p-1"}),
		"no partner_id":   withClaims(map[string]string{"sub": "u"}),
		"empty partner":   withClaims(map[string]string{"sub": "u", "partner_id": ""}),
		"other claim set": withClaims(map[string]string{"email": "a@b.c"}),
		"key separator":   withClaims(map[string]string{"sub": "u", "partner_id": "p#IDEMP"}),
	}
	for name, req := range unauthorized {
		_, err := PrincipalFrom(req)
		wantProblem(t, err, 401, CodeUnauthorized)
		if testing.Verbose() {
			t.Log(name, err)
		}
	}

	reader, err := PrincipalFrom(withClaims(map[string]string{"sub": "u", "partner_id": "p", "roles": "Reader incentivesadmin"}))
	if err != nil {
		t.Fatal(err)
	}
	if reader.IsAdmin() {
		t.Fatal("role match must be exact")
	}
	if reader.MPNIDs != nil {
		t.Fatal("no mpn_ids claim: no MPN")
	}
}
