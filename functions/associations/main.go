// AssociationsFunction: approved associations, partner side: ending one
// (POST /claims/{id}/disassociate) and the registry of what the partner
// holds (GET /associations).
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
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "SENDER_EMAIL")
	if err != nil {
		log.Fatal(err)
	}
	mailer, err := env.Mailer()
	if err != nil {
		log.Fatal(err)
	}
	a := &api.After{API: api.API{Service: service.New(env.Store(), nil, nil, env.Log)}, Mail: mailer}
	lambda.Start(api.Router(a.AssociationsRoutes()).Serve)
}
