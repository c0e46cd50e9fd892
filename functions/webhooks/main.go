// WebhooksFunction: the partner's /webhooks routes.
package main

import (
	"context"
	"log"
	"net"
	"os"

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
	a := &webhook.API{
		Store:    &webhook.Store{DB: awsclient.DynamoDB(env.AWS), Table: env.Config.TableName},
		Sealer:   webhook.KMSSealer{KMS: kms.NewFromConfig(env.AWS), KeyID: keyID},
		Queue:    webhook.DeliveryQueue{SQS: awsclient.SQS(env.AWS), URL: env.Config.QueueURL},
		Resolver: net.DefaultResolver, Local: os.Getenv("STAGE") == "local", Log: env.Log,
	}
	lambda.Start(a.Router().Serve)
}
