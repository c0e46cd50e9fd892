// Package bootstrap builds what a function's main wires once, outside the
// handler: configuration, the AWS clients and the domain's dependencies.
package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/config"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

// Env is a function's environment, built once per cold start.
type Env struct {
	Config   config.Config
	AWS      aws.Config
	Log      *slog.Logger
	Calendar *claim.Calendar
}

// Load reads the configuration (checking the settings this function
// needs), the AWS configuration (the standard AWS_ENDPOINT_URL* variables
// point it at emulators) and the business calendar.
func Load(ctx context.Context, required ...string) (*Env, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	if err := cfg.Require(required...); err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	cal, err := claim.NewCalendar(cfg.BusinessTimeZone, cfg.BusinessCountry)
	if err != nil {
		return nil, fmt.Errorf("business calendar: %w", err)
	}
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	return &Env{Config: cfg, AWS: awsCfg, Log: log, Calendar: cal}, nil
}

// Store is the claims table.
func (e *Env) Store() *store.Store {
	return store.New(awsclient.DynamoDB(e.AWS), e.Config.TableName,
		store.WithDueShards(e.Config.DueShards), store.WithRequeueAfter(e.Config.RequeueAfter))
}

// Evidence is the evidence bucket.
func (e *Env) Evidence() *evidence.Bucket {
	return evidence.New(awsclient.S3(e.AWS), e.Config.EvidenceBucket)
}

// Queue is the validation queue.
func (e *Env) Queue() *queue.Queue {
	return queue.New(awsclient.SQS(e.AWS), e.Config.QueueURL)
}

// Mailer sends from the configured identity, showing dates in the business
// time zone.
func (e *Env) Mailer() (*mail.Mailer, error) {
	m, err := mail.New(awsclient.SES(e.AWS), e.Config.SenderEmail, e.Calendar.Location())
	if err != nil {
		return nil, err
	}
	// The customer's notices go through the configuration set whose event
	// destination reports bounces and complaints (CONFIGURATION_SET).
	m.ConfigurationSet = os.Getenv("CONFIGURATION_SET")
	return m, nil
}

// Clock is the functions' wall clock (tests inject their own).
func Clock() time.Time { return time.Now().UTC() }
