// ImportsApiFunction: bulk import routes (GET /imports/template.csv, POST /imports, GET /imports, GET /imports/{id}, GET /imports/{id}/errors).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/imports"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "EVIDENCE_BUCKET")
	if err != nil {
		log.Fatal(err)
	}
	a := &api.ImportsAPI{Uploads: imports.NewUploads(env.Store(), env.Evidence())}
	lambda.Start(api.Router(a.Routes()).Serve)
}
