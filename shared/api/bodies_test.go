package api

import (
	"testing"

	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/strictjson"
)

// Every request body the partner routes decode has a shape the strict
// decoder knows; another shape would answer 500 on every request.
func TestRequestBodiesAreDecodable(t *testing.T) {
	for _, dst := range []any{&service.Fields{}, &service.NewEvidence{}, &imports.NewImport{}, &noBody{}, &commentBody{}, &reasonBody{}} {
		if err := strictjson.CheckDestination(dst); err != nil {
			t.Errorf("%T: %v", dst, err)
		}
	}
}
