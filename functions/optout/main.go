// OptOutFunction: the customer's opt-out page, GET and POST /opt-out/{token}.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/optout"
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
	h := &optout.Handler{Store: env.Store(), Mail: mailer, Location: env.Calendar.Location(), Clock: bootstrap.Clock, Log: env.Log, CoolDown: env.Config.OptOutCoolDown}
	lambda.Start(h.Handle)
}
