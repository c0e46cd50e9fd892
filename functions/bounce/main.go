// BounceFunction: SES bounce and complaint events of the customer's
// notices (configuration set -> SNS -> SQS), partial batch failures.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/bounce"
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
	w := &bounce.Worker{Store: env.Store(), Mail: mailer, Clock: bootstrap.Clock, Log: env.Log}
	lambda.Start(w.Handle)
}
