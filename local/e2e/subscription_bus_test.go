package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// Billing's event put on the claims bus (POST /_local/events, as `aws
// events put-events` would) reaches the worker through the template's rule
// (source cpor.billing, detail-type Subscription Ended) and its queue, and
// ends the subscription's holder.
func TestSubscriptionEndedThroughTheBus(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e6
	p := apitest.NewUser(t, fmt.Sprintf("busholder-%d", stamp), true)
	tenant := afterTenant()
	sub := fmt.Sprintf("5ab5ab5a-3333-4000-8000-%012d", stamp)
	held := approvedClaim(t, &p, tenant, dynamicsClaim(sub))
	r := apitest.Expect(t, apitest.Call(t, nil, "POST", "/_local/events", map[string]any{
		"source": "cpor.billing", "detail-type": "Subscription Ended",
		"detail": map[string]any{"tenantId": tenant, "subscriptionId": sub, "endedAt": time.Now().UTC().Format(time.RFC3339)},
	}), 200)
	if id, _ := r.JSON(t)["id"].(string); id == "" {
		t.Fatalf("put event: %s", r.Body)
	}
	if c := apitest.WaitStatus(t, &p, held.id, "Ended"); c["statusReason"].(map[string]any)["code"] != "subscription_ended" {
		t.Fatalf("ended: %v", c["statusReason"])
	}
}
