// FinalizeFunction: the scheduled run that decides due claims.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/metrics"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "QUEUE_URL", "SENDER_EMAIL")
	if err != nil {
		log.Fatal(err)
	}
	mailer, err := env.Mailer()
	if err != nil {
		log.Fatal(err)
	}
	stage := os.Getenv("STAGE")
	f := &finalize.Finalizer{Store: env.Store(), Jobs: env.Queue(), Mail: mailer, Clock: bootstrap.Clock, Log: env.Log,
		Metrics: metrics.New(map[string]string{"Stage": stage}), Stage: stage}
	lambda.Start(f.Handle)
}
