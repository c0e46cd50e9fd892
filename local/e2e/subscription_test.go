package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// subscriptionEnded puts billing's event on the Subscription Ended queue,
// shaped as a rule's SQS target delivers it (EventBridge's envelope).
func subscriptionEnded(t *testing.T, eventID, tenant, sub string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"version": "0", "id": eventID, "detail-type": "Subscription Ended", "source": "cpor.billing",
		"account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{"tenantId": tenant, "subscriptionId": sub, "endedAt": time.Now().UTC().Format(time.RFC3339)},
	})
	url := rt.Resources().Refs["SubscriptionEndedQueue"]
	if url == "" {
		t.Fatal("the stack has no SubscriptionEndedQueue")
	}
	sq := awsclient.SQS(testenv.AWSConfig(t))
	if _, err := sq.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
}

func dynamicsClaim(sub string) func(map[string]any) {
	return func(b map[string]any) {
		b["solutionArea"] = "BusinessApplications"
		b["products"] = []any{map[string]any{"id": "dynamics-365-sales", "subscriptionId": sub}}
		if sub == "" {
			b["products"] = []any{map[string]any{"id": "dynamics-365-sales"}}
		}
		b["technicalContact"] = map[string]any{"name": "Tom", "title": "Admin", "email": "tom@contoso.example"}
	}
}

// A Subscription Ended event ends, through the real worker binary, the
// claim holding that subscription, once: its unit is freed, its partner
// contact emailed once, and a redelivered event changes nothing. A claim
// holding the whole product is not ended by one subscription's end.
func TestSubscriptionEndedEndsItsHolderOnce(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e6
	p1 := apitest.NewUser(t, fmt.Sprintf("subholder-%d", stamp), true)
	p2 := apitest.NewUser(t, fmt.Sprintf("wholeholder-%d", stamp), true)
	tenant, wholeTenant := afterTenant(), afterTenant()
	sub := fmt.Sprintf("5ab5ab5a-0000-4000-8000-%012d", stamp)
	held := approvedClaim(t, &p1, tenant, dynamicsClaim(sub))
	whole := approvedClaim(t, &p2, wholeTenant, dynamicsClaim(""))

	eventID := fmt.Sprintf("evt-%d", stamp)
	subscriptionEnded(t, eventID, tenant, sub)
	subscriptionEnded(t, eventID+"-other", wholeTenant, sub) // a subscription of the whole-product holder's tenant
	c := apitest.WaitStatus(t, &p1, held.id, "Ended")
	if c["statusReason"].(map[string]any)["code"] != "subscription_ended" {
		t.Fatalf("ended: %v", c["statusReason"])
	}
	// The same event again (redelivery): nothing more.
	subscriptionEnded(t, eventID, tenant, sub)
	pm := awaitMails(t, held.partnerMail, `Claim "`+markupName+`": approved`, `Claim "`+markupName+`": ended`)
	partnerMail(t, "subscription ended", pm[`Claim "`+markupName+`": ended`], held.partnerMail, held.id)
	time.Sleep(3 * time.Second) // the redelivered event has been handled by now
	var ends []string
	for _, e := range history(t, &p1, held.id) {
		if e.ToStatus == "Ended" {
			ends = append(ends, e.Action+" "+e.Actor.Type)
		}
	}
	if strings.Join(ends, ",") != "subscription_ended system" {
		t.Errorf("ends in the history: %v", ends)
	}
	awaitMails(t, held.partnerMail, `Claim "`+markupName+`": approved`, `Claim "`+markupName+`": ended`)
	if w := apitest.Expect(t, apitest.Call(t, &p2, "GET", "/claims/"+whole.id, nil), 200).JSON(t); w["status"] != "Approved" {
		t.Errorf("the whole-product holder: %v", w["status"])
	}
	// The subscription is free: another partner's claim on it is approved.
	next := approvedClaim(t, &p2, tenant, dynamicsClaim(sub))
	if n := apitest.Expect(t, apitest.Call(t, &p2, "GET", "/claims/"+next.id, nil), 200).JSON(t); n["status"] != "Approved" {
		t.Errorf("the next claim on the freed subscription: %v", n["status"])
	}
}
