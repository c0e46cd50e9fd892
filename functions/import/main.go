// ImportFunction: turns uploaded import files into Drafts (the bucket's
// object-created notifications of imports/, through the import queue).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/service"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "EVIDENCE_BUCKET", "QUEUE_URL")
	if err != nil {
		log.Fatal(err)
	}
	st := env.Store()
	p := &imports.Processor{
		Store: st, Drafts: service.New(st, nil, nil, env.Log),
		Objects: awsclient.S3(env.AWS), Bucket: env.Config.EvidenceBucket,
		Queue: awsclient.SQS(env.AWS), QueueURL: env.Config.QueueURL,
		Clock: bootstrap.Clock, Log: env.Log,
	}
	lambda.Start(p.Handle)
}
