package events_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/publish"
	"github.com/cpor-claims/claims/shared/webhook"
)

// publicResolver answers every host with a documentation-range-free public
// address (the samples' hosts are not in any DNS here).
type publicResolver struct{}

func (publicResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
}

// eventsOut drives the samples of the events-out functions: the stream
// batch through PublishFunction's handler onto the local bus, the webhook
// routes through WebhooksFunction's, and the delivery batch (the bus's event
// on the delivery queue) through DeliverFunction's fan-out.
func eventsOut(t *testing.T, res *stack.Resources) {
	t.Helper()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var batch events.DynamoDBEvent
	load(t, "publish-stream-batch.json", &batch)
	p := &publish.Publisher{Bus: eventbridge.NewFromConfig(cfg), BusARN: res.Refs["ClaimsBus"], Attempts: 2, Backoff: 10 * time.Millisecond, Log: log}
	out, err := p.Handle(ctx, batch)
	if err != nil || len(out.BatchItemFailures) != 0 {
		t.Fatalf("publish-stream-batch.json: %+v %v", out, err)
	}

	whStore := &webhook.Store{DB: awsclient.DynamoDB(cfg), Table: res.TableName}
	q := webhook.DeliveryQueue{SQS: awsclient.SQS(cfg), URL: res.Refs["DeliveryQueue"]}
	sealer := webhook.KMSSealer{KMS: kms.NewFromConfig(cfg), KeyID: res.Refs["WebhookSecretsKey"]}
	a := &webhook.API{Store: whStore, Sealer: sealer, Queue: q, Resolver: publicResolver{}, Log: log}
	r := a.Router()
	var req events.APIGatewayV2HTTPRequest
	load(t, "create-webhook.json", &req)
	resp, err := r.Serve(ctx, req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create-webhook.json: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	var hook map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &hook)
	load(t, "list-webhooks.json", &req)
	if resp, err := r.Serve(ctx, req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list-webhooks.json: %d %v", resp.StatusCode, err)
	}

	var sq events.SQSEvent
	load(t, "delivery-batch.json", &sq)
	d := &webhook.Deliverer{Store: whStore, Sealer: sealer, Queue: q, Visibility: q, Resolver: publicResolver{},
		Schedule: webhook.DefaultSchedule, Clock: time.Now, Log: log}
	dout, err := d.Handle(ctx, sq)
	if err != nil || len(dout.BatchItemFailures) != 0 {
		t.Fatalf("delivery-batch.json: %+v %v", dout, err)
	}
	// The sample's Submitted event matches the sample webhook's statuses:
	// one delivery, pending on the delivery queue.
	dl, err := whStore.GetDelivery(ctx, "fabrikam", hook["id"].(string), webhook.DeliveryID(hook["id"].(string), "01a20d0c-0000-7000-8000-000000000001-v3"))
	if err != nil || dl.Status != "pending" {
		t.Fatalf("the fan-out's delivery: %+v %v", dl, err)
	}
}
