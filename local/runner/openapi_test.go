package runner_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/testenv"
)

// The template's routes, the OpenAPI document's operations and the
// runner's routes are one set.
func TestRoutesAgreeAcrossTemplateOpenAPIAndRunner(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(testenv.Root(), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	var fromDoc []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			fromDoc = append(fromDoc, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(fromDoc)
	var fromTemplate []string
	for key := range testenv.Template().Routes() {
		fromTemplate = append(fromTemplate, key)
	}
	sort.Strings(fromTemplate)
	fromRunner := rt.Routes()
	if !slices.Equal(fromTemplate, fromDoc) {
		t.Errorf("template %v\nopenapi  %v", fromTemplate, fromDoc)
	}
	if !slices.Equal(fromTemplate, fromRunner) {
		t.Errorf("template %v\nrunner   %v", fromTemplate, fromRunner)
	}
	// Every partner route is secured in the document; the customer's are not.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := apitest.CustomerRoute(path)
			open := op.Security != nil && len(*op.Security) == 0
			if public != open {
				t.Errorf("%s %s: public=%v but security open=%v", method, path, public, open)
			}
		}
	}
	// The runner serves the document among its own endpoints, not as an
	// API route the template lacks.
	resp, err := http.Get(apitest.Base + "/_local/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "openapi:") {
		t.Fatalf("GET /_local/openapi.yaml: %d %.80s", resp.StatusCode, body)
	}
	if r := apitest.Call(t, nil, "GET", "/openapi.yaml", nil); r.Status != 404 || string(r.Body) != `{"message":"Not Found"}` {
		t.Fatalf("GET /openapi.yaml (no such route in the template): %d %s", r.Status, r.Body)
	}
}
