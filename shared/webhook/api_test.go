package webhook

import (
	"testing"

	"github.com/cpor-claims/claims/shared/strictjson"
)

// POST /webhooks's body has a shape the strict decoder knows; another
// shape would answer 500 on every request.
func TestCreateInputIsDecodable(t *testing.T) {
	if err := strictjson.CheckDestination(&createInput{}); err != nil {
		t.Fatal(err)
	}
}
