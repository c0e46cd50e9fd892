package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// sesEvent is SES's event publishing JSON of a bounce or complaint of the
// customer's notice, with the notice's message tags (and SES's own).
func sesEvent(kind, to, claimID string, notification int) string {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	mail := map[string]any{
		"timestamp": now, "source": "claims-noreply@example.com", "sendingAccountId": "000000000000",
		"sourceArn": "arn:aws:ses:us-east-1:000000000000:identity/claims-noreply@example.com",
		"messageId": uuid.NewString(), "destination": []string{to}, "headersTruncated": false,
		"tags": map[string][]string{
			"ses:configuration-set": {"local-CustomerNoticeEvents"}, "ses:from-domain": {"example.com"},
			"ses:caller-identity": {"ValidateFunction"}, "claimId": {claimID}, "notification": {strconv.Itoa(notification)},
		},
	}
	ev := map[string]any{"eventType": kind, "mail": mail}
	switch kind {
	case "Bounce":
		ev["bounce"] = map[string]any{"feedbackId": uuid.NewString(), "bounceType": "Permanent", "bounceSubType": "General",
			"bouncedRecipients": []any{map[string]any{"emailAddress": to, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}},
			"timestamp":         now, "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com"}
	case "Complaint":
		ev["complaint"] = map[string]any{"feedbackId": uuid.NewString(), "complainedRecipients": []any{map[string]any{"emailAddress": to}},
			"timestamp": now, "userAgent": "Mail/1.0", "complaintFeedbackType": "abuse", "arrivalDate": now}
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// snsEnvelope wraps a message as SNS delivers it to SQS.
func snsEnvelope(topicARN, message string) string {
	b, _ := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": uuid.NewString(), "TopicArn": topicARN, "Message": message,
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1", "Signature": "EXAMPLE",
		"SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
		"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
	})
	return string(b)
}

// SES's bounce and complaint events of the customer's notice reach
// BounceFunction (the real binary) through the template's topic and queue:
// the claim, still pending on that notification, is Rejected
// (email_bounced) with its history event, and its partner contact is
// told; an event of an older notification changes nothing.
func TestBouncedNoticeRejectsTheClaim(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	u := apitest.NewUser(t, "bounce-partner", true)
	pending := func(partnerMail string) (id string, version int, to string) {
		t.Helper()
		body := apitest.DraftBody(true)
		body["partnerContact"] = map[string]any{"name": "Pat", "email": partnerMail}
		id = apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
		apitest.Upload(t, &u, id, apitest.PDF)
		apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
		c := apitest.WaitStatus(t, &u, id, "PendingCustomer")
		return id, int(c["version"].(float64)), body["customerContact"].(map[string]any)["email"].(string)
	}
	stamp := time.Now().UnixNano() % 1e9
	bouncedMail, complainedMail := fmt.Sprintf("pat.bounce.%d@fabrikam.example", stamp), fmt.Sprintf("pat.complaint.%d@fabrikam.example", stamp)
	bounced, bv, bto := pending(bouncedMail)
	complained, cv, cto := pending(complainedMail)
	stale, sv, sto := pending(fmt.Sprintf("pat.stale.%d@fabrikam.example", stamp))

	topic, queueURL := rt.Resources().Refs["BounceTopic"], rt.Resources().Refs["BounceQueue"]
	if topic == "" || queueURL == "" {
		t.Fatalf("the local stack has no bounce topic or queue: %v", rt.Resources().Refs)
	}
	// The bounce through the topic (SNS wraps it and delivers it to the
	// subscribed queue); the complaint and a stale bounce put on the queue
	// as SNS delivers them.
	if _, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(sesEvent("Bounce", bto, bounced, bv))}); err != nil {
		t.Fatal(err)
	}
	sq := awsclient.SQS(cfg)
	for _, m := range []string{sesEvent("Complaint", cto, complained, cv), sesEvent("Bounce", sto, stale, sv-1)} {
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(snsEnvelope(topic, m))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ id, partner, word string }{{bounced, bouncedMail, "bounced"}, {complained, complainedMail, "unwanted"}} {
		got := apitest.WaitStatus(t, &u, c.id, "Rejected")
		sr := got["statusReason"].(map[string]any)
		if sr["code"] != "email_bounced" || !strings.Contains(sr["message"].(string), c.word) || got["optOutDeadline"] != nil {
			t.Fatalf("claim %s: %v", c.id, got)
		}
		items := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+c.id+"/history", nil), 200).JSON(t)["items"].([]any)
		last := items[len(items)-1].(map[string]any)
		if last["action"] != "rejected" || last["fromStatus"] != "PendingCustomer" || last["actor"].(map[string]any)["type"] != "system" {
			t.Fatalf("claim %s: last history event %v", c.id, last)
		}
		subject := `Claim "Teams rollout": rejected`
		m := awaitMails(t, c.partner, subject)[subject]
		if !strings.Contains(m.Text, sr["message"].(string)) {
			t.Fatalf("partner notice lacks the reason:\n%s", m.Text)
		}
	}
	// The stale event's claim stays pending, once the queue is drained
	// (every event handled and deleted).
	apitest.WaitFor(t, "the bounce queue drained", 30*time.Second, func() bool { return apitest.QueueCounts(t, sq, queueURL) == [3]int{} })
	if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+stale, nil), 200).JSON(t); c["status"] != "PendingCustomer" {
		t.Fatalf("an event of an older notification changed the claim: %v", c["status"])
	}
}
