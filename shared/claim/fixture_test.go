package claim_test

import (
	"testing"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
)

// The shared test fixture must stay a valid Draft that submit accepts once
// its evidence is uploaded, or every package's tests built on it mislead.
func TestClaimtestCompleteIsValid(t *testing.T) {
	c := claimtest.Complete("partner-1", "72f988bf-86f1-41af-91ab-2d7cd011db47", time.Now())
	claim.Normalize(c)
	if err := claim.ValidateValues(c, []string{c.MPNID}); err != nil {
		t.Fatalf("values: %v", err)
	}
	if err := claim.ValidateComplete(c); err == nil {
		t.Fatal("complete before its evidence is uploaded")
	}
	c.Evidence[0].Uploaded = true
	if err := claim.ValidateComplete(c); err != nil {
		t.Fatalf("complete: %v", err)
	}
}
