// ValidateFunction: the SQS validation worker (partial batch failures).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cpor-claims/claims/shared/bootstrap"
	"github.com/cpor-claims/claims/shared/tenant"
	"github.com/cpor-claims/claims/shared/validation"
)

func main() {
	ctx := context.Background()
	env, err := bootstrap.Load(ctx, "TABLE_NAME", "EVIDENCE_BUCKET", "SENDER_EMAIL", "PUBLIC_BASE_URL")
	if err != nil {
		log.Fatal(err)
	}
	mailer, err := env.Mailer()
	if err != nil {
		log.Fatal(err)
	}
	w := &validation.Worker{
		Store: env.Store(), Evidence: env.Evidence(), Mail: mailer, Calendar: env.Calendar,
		Clock: bootstrap.Clock, PublicBaseURL: env.Config.PublicBaseURL, Log: env.Log, ResendAfter: env.Config.ResendAfter,
	}
	if env.Config.TenantLookup {
		w.Tenants = tenant.New(env.Config.TenantLookupURL)
	} else {
		env.Log.Warn("tenant/domain lookup is switched off (TENANT_LOOKUP_ENABLED=false)")
	}
	lambda.Start(w.Handle)
}
