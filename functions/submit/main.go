// SubmitFunction: the partner's lifecycle steps (submit, respond, withdraw, dispute).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/service"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "EVIDENCE_BUCKET", "QUEUE_URL")
	if err != nil {
		log.Fatal(err)
	}
	a := &api.API{Service: service.New(env.Store(), env.Evidence(), env.Queue(), env.Log)}
	lambda.Start(api.Router(a.SubmitRoutes()).Serve)
}
