// DeliverFunction: the webhook delivery queue (fed by a rule on the claims
// bus): fans each event out to the partner's webhooks, then signs and
// POSTs each delivery, retrying through the message's visibility timeout.
package main

import (
	"context"
	"log"
	"net"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/webhook"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "QUEUE_URL")
	if err != nil {
		log.Fatal(err)
	}
	keyID := os.Getenv("WEBHOOK_KEY_ID")
	if keyID == "" {
		log.Fatal("WEBHOOK_KEY_ID is not set")
	}
	local := os.Getenv("STAGE") == "local"
	schedule := webhook.DefaultSchedule
	// Only the local stage may shorten the retry schedule (tests).
	if s := os.Getenv("WEBHOOK_RETRY_SCHEDULE"); s != "" && local {
		if schedule, err = webhook.ParseSchedule(s); err != nil {
			log.Fatal(err)
		}
	}
	q := webhook.DeliveryQueue{SQS: awsclient.SQS(env.AWS), URL: env.Config.QueueURL}
	d := &webhook.Deliverer{
		Store:  &webhook.Store{DB: awsclient.DynamoDB(env.AWS), Table: env.Config.TableName},
		Sealer: webhook.KMSSealer{KMS: kms.NewFromConfig(env.AWS), KeyID: keyID},
		Queue:  q, Visibility: q, Resolver: net.DefaultResolver, Local: local,
		Schedule: schedule, Timeout: 15 * time.Second, Clock: bootstrap.Clock, Log: env.Log,
	}
	lambda.Start(d.Handle)
}
