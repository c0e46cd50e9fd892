package runner_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

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
			public := strings.HasPrefix(path, "/opt-out/")
			open := op.Security != nil && len(*op.Security) == 0
			if public != open {
				t.Errorf("%s %s: public=%v but security open=%v", method, path, public, open)
			}
		}
	}
	// The runner serves the document.
	resp, err := http.Get(base + "/openapi.yaml")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.yaml: %v %v", resp, err)
	}
	resp.Body.Close()
}
