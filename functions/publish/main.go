// PublishFunction: the table's stream (the outbox) -> the claims bus.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/publish"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	bus := os.Getenv("EVENT_BUS_NAME")
	if bus == "" {
		log.Fatal("EVENT_BUS_NAME is not set")
	}
	p := &publish.Publisher{Bus: eventbridge.NewFromConfig(env.AWS), BusARN: bus, Attempts: 4, Backoff: 200 * time.Millisecond, Log: env.Log}
	lambda.Start(p.Handle)
}
