// SubscriptionEndedFunction: the queue of "Subscription Ended" events (a
// rule on the claims bus); ends the associations held on each subscription
// (partial batch failures).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/subscriptions"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "SENDER_EMAIL")
	if err != nil {
		log.Fatal(err)
	}
	mailer, err := env.Mailer()
	if err != nil {
		log.Fatal(err)
	}
	w := &subscriptions.Worker{Store: env.Store(), Mail: mailer, Clock: bootstrap.Clock, Log: env.Log}
	lambda.Start(w.Handle)
}
