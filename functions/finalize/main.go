// FinalizeFunction: the scheduled run that decides due claims.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/finalize"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "QUEUE_URL", "SENDER_EMAIL", "PUBLIC_BASE_URL")
	if err != nil {
		log.Fatal(err)
	}
	mailer, err := env.Mailer()
	if err != nil {
		log.Fatal(err)
	}
	f := &finalize.Finalizer{Store: env.Store(), Jobs: env.Queue(), Mail: mailer, Clock: bootstrap.Clock, Log: env.Log,
		Customers: mailer, PublicBaseURL: env.Config.PublicBaseURL}
	lambda.Start(f.Handle)
}
