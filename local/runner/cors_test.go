package runner_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/testenv"
)

// templateCORS is the HttpApi's CorsConfiguration as template.yaml states it.
func templateCORS(t *testing.T) map[string]any {
	t.Helper()
	for _, id := range testenv.Template().OfType("AWS::Serverless::HttpApi") {
		if c, ok := testenv.Template().Resources[id].Properties["CorsConfiguration"].(map[string]any); ok {
			return c
		}
	}
	t.Fatal("template.yaml's HttpApi declares no CorsConfiguration")
	return nil
}

func joined(t *testing.T, v any, norm func(string) string) string {
	t.Helper()
	var out []string
	for _, x := range v.([]any) {
		s, err := samtemplate.Resolve(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, norm(s))
	}
	return strings.Join(out, ",")
}

func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = h.Get(k)
		}
	}
	return out
}

// The runner plays the template's CORS as API Gateway does; the runner of
// TestMain runs with the UiOrigin parameter's local value.
func TestCORSFromTheTemplate(t *testing.T) {
	conf := templateCORS(t)
	origin := testenv.Template().Parameters["UiOrigin"]
	if origin == "" {
		t.Fatal("UiOrigin has no local value")
	}
	checkCORS(t, origin, "https://evil.example")

	// Every route path answers the preflight, before the authorizer.
	u := apitest.NewUser(t, "cors", true)
	id := apitest.CreateClaim(t, &u, false)
	for _, route := range rt.Routes() {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{id}", id, "{token}", strings.Repeat("A", 43)).Replace(path)
		r := apitest.Call(t, nil, "OPTIONS", path, nil, "Origin", origin, "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", "authorization,content-type")
		if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight of %s: %d %v", route, r.Status, corsHeaders(r.Header))
		}
	}
	// The document's numbers are the template's.
	r := apitest.Call(t, nil, "OPTIONS", "/claims", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
	want := map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": joined(t, conf["AllowMethods"], strings.ToUpper),
		"Access-Control-Allow-Headers": joined(t, conf["AllowHeaders"], strings.ToLower),
		"Access-Control-Max-Age":       conf["MaxAge"].(string),
	}
	if got := corsHeaders(r.Header); !maps.Equal(got, want) {
		t.Fatalf("preflight headers %v, want %v", got, want)
	}
}

// checkCORS checks a runner whose CORS allows origin (and not other).
func checkCORS(t *testing.T, origin, other string) {
	t.Helper()
	u := apitest.NewUser(t, "cors", false)
	// Preflight from the allowed origin: the gateway answers it.
	r := apitest.Call(t, nil, "OPTIONS", "/claims", nil, "Origin", origin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	if r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("preflight: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "idempotency-key") || r.Header.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight headers: %v", corsHeaders(r.Header))
	}
	// Another origin: no CORS headers, so the browser refuses.
	r = apitest.Call(t, nil, "OPTIONS", "/claims", nil, "Origin", other, "Access-Control-Request-Method", "POST")
	if got := corsHeaders(r.Header); len(got) != 0 {
		t.Fatalf("preflight from %s: %v", other, got)
	}
	// Actual responses: the function's, and the gateway's own 401.
	r = apitest.Expect(t, apitest.Call(t, &u, "GET", "/products", nil, "Origin", origin), 200)
	if r.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "etag") {
		t.Fatalf("GET /products from %s: %v", origin, corsHeaders(r.Header))
	}
	r = apitest.Expect(t, apitest.Call(t, nil, "GET", "/products", nil, "Origin", origin), 401)
	if r.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("401 from %s: %v", origin, corsHeaders(r.Header))
	}
	r = apitest.Expect(t, apitest.Call(t, &u, "GET", "/products", nil, "Origin", other), 200)
	if got := corsHeaders(r.Header); len(got) != 0 {
		t.Fatalf("GET /products from %s: %v", other, got)
	}
	// Without Origin (curl, the SDK) nothing changes.
	r = apitest.Expect(t, apitest.Call(t, &u, "GET", "/products", nil), 200)
	if got := corsHeaders(r.Header); len(got) != 0 {
		t.Fatalf("GET /products without Origin: %v", got)
	}
	// OPTIONS that is no preflight is routed: the template has no such route.
	if r := apitest.Call(t, nil, "OPTIONS", "/claims", nil); r.Status != 404 {
		t.Fatalf("OPTIONS without a preflight's headers: %d %s", r.Status, r.Body)
	}
}
