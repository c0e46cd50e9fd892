package identity

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The stand-in answers as the identity platform's discovery endpoint does
// (its own HTTP server is the thing under test), and its directory is
// changed and listed through the runner's endpoints.
func TestDiscoveryAndDirectory(t *testing.T) {
	d := New()
	idp := httptest.NewServer(d)
	defer idp.Close()
	local := httptest.NewServer(http.HandlerFunc(d.ServeLocal))
	defer local.Close()
	get := func(url string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	// A seeded sample tenant, whatever the domain's case.
	code, doc := get(idp.URL + "/Contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if code != 200 || doc["issuer"] != "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" || doc["jwks_uri"] == nil || doc["token_endpoint"] == nil {
		t.Fatalf("sample tenant: %d %v", code, doc)
	}
	// An unknown domain: 400 with AADSTS90002, as the real endpoint.
	code, doc = get(idp.URL + "/adatum.com/v2.0/.well-known/openid-configuration")
	if code != 400 || doc["error"] != "invalid_tenant" || !strings.HasPrefix(doc["error_description"].(string), "AADSTS90002") {
		t.Fatalf("unknown domain: %d %v", code, doc)
	}
	// PUT registers it (204); then the discovery document names its tenant.
	put := func(path, body string) int {
		req, _ := http.NewRequest(http.MethodPut, local.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const tid = "0f8e2a43-6c1d-4b7a-9e3f-2d5c8b1a7e60"
	if c := put("/_local/directory/adatum.com", `{"tenantId":"`+tid+`"}`); c != 204 {
		t.Fatalf("PUT: %d", c)
	}
	if code, doc = get(idp.URL + "/adatum.com/v2.0/.well-known/openid-configuration"); code != 200 || doc["issuer"] != "https://login.microsoftonline.com/"+tid+"/v2.0" {
		t.Fatalf("registered domain: %d %v", code, doc)
	}
	for _, bad := range []struct{ path, body string }{
		{"/_local/directory/adatum.com", `{"tenantId":"nope"}`},
		{"/_local/directory/not_a_domain", `{"tenantId":"` + tid + `"}`},
		{"/_local/directory/adatum.com", `{"tenant":"` + tid + `"}`},
	} {
		if c := put(bad.path, bad.body); c != 400 {
			t.Errorf("PUT %s %s: %d, want 400", bad.path, bad.body, c)
		}
	}
	// GET lists the samples and the new domain.
	code, list := get(local.URL + "/_local/directory")
	items, _ := list["items"].([]any)
	found := map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		found[m["domain"].(string)] = m["tenantId"].(string)
	}
	if code != 200 || found["adatum.com"] != tid || found["contoso.onmicrosoft.com"] != Samples["contoso.onmicrosoft.com"] || len(found) != len(Samples)+1 {
		t.Fatalf("directory: %d %v", code, found)
	}
}
