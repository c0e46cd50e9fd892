package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// Resources are the local counterparts of the template's resources.
type Resources struct {
	TableName  string
	QueueURL   string
	QueueARN   string
	DLQURL     string
	BucketName string
	Sender     string
	// EventsTapURL is the local-only queue that a catch-all rule on the
	// claims bus feeds (GET /_local/events); empty without a bus.
	EventsTapURL string
	// StreamARNs are the tables' stream ARNs by logical id.
	StreamARNs map[string]string
	// Refs resolves the template's !Ref, !GetAtt and ${...} of resources
	// and parameters to local values ("ClaimsTable", "ValidationQueue.Arn",
	// "AWS::Region", "Stage", ...).
	Refs map[string]string
}

// Provision creates every table, queue and bucket template.yaml declares,
// named from prefix (so many test packages can share one emulator), and
// verifies the SES sender. Parameters take their defaults, then the local
// values (samconfig.toml, Template.Local), then params. Every other resource
// type must be one the local stack knows it leaves to AWS (awsOnly), so a new
// kind of resource cannot be silently missing locally.
func Provision(ctx context.Context, cfg aws.Config, t *samtemplate.Template, prefix string, params map[string]string) (*Resources, error) {
	if err := CheckLocalCoverage(t); err != nil {
		return nil, err
	}
	refs := map[string]string{
		"AWS::Region": cfg.Region, "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
		"AWS::StackName": prefix, "AWS::URLSuffix": "amazonaws.com",
	}
	for k, v := range t.Values(params) {
		refs[k] = v
	}
	for name := range t.Parameters {
		if refs[name] == "" && t.Required[name] {
			return nil, fmt.Errorf("parameter %s has no default and no local value (samconfig.toml [default.local_invoke.parameters])", name)
		}
	}
	res := &Resources{Refs: refs, StreamARNs: map[string]string{}}
	ddb := awsclient.DynamoDB(cfg)
	for _, tb := range t.Tables() {
		name := prefix + "-" + tb.ID
		streamARN, err := createTable(ctx, ddb, name, tb)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", tb.ID, err)
		}
		if streamARN != "" {
			refs[tb.ID+".StreamArn"] = streamARN
			res.StreamARNs[tb.ID] = streamARN
		}
		refs[tb.ID] = name
		refs[tb.ID+".Arn"] = "arn:aws:dynamodb:" + cfg.Region + ":000000000000:table/" + name
		res.TableName = name
	}
	q := awsclient.SQS(cfg)
	for _, qu := range t.Queues() {
		attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(qu.VisibilityTimeout)}
		if qu.DeadLetterQueue != "" {
			dlqArn, ok := refs[qu.DeadLetterQueue+".Arn"]
			if !ok {
				return nil, fmt.Errorf("queue %s: dead-letter queue %s not declared", qu.ID, qu.DeadLetterQueue)
			}
			rp, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqArn, "maxReceiveCount": qu.MaxReceiveCount})
			attrs["RedrivePolicy"] = string(rp)
		}
		name := prefix + "-" + qu.ID
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", qu.ID, err)
		}
		ga, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", qu.ID, err)
		}
		refs[qu.ID] = aws.ToString(out.QueueUrl)
		refs[qu.ID+".Arn"] = ga.Attributes["QueueArn"]
		refs[qu.ID+".QueueName"] = name
		if qu.DeadLetterQueue != "" {
			res.QueueURL, res.QueueARN = refs[qu.ID], refs[qu.ID+".Arn"]
			res.DLQURL = refs[qu.DeadLetterQueue]
		}
	}
	s3c := awsclient.S3(cfg)
	for _, b := range t.Buckets() {
		name := strings.ToLower(prefix + "-" + b.ID)
		if err := createBucket(ctx, s3c, name, b, refs); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", b.ID, err)
		}
		refs[b.ID] = name
		refs[b.ID+".Arn"] = "arn:aws:s3:::" + name
		res.BucketName = name
	}
	if err := provisionNotices(ctx, cfg, t, prefix, refs); err != nil {
		return nil, err
	}
	if err := provisionKeys(ctx, cfg, t, res); err != nil {
		return nil, err
	}
	if err := provisionEvents(ctx, cfg, t, prefix, res); err != nil {
		return nil, err
	}
	if sender := refs["SenderEmail"]; sender != "" {
		if _, err := awsclient.SES(cfg).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: &sender}); err != nil {
			return nil, fmt.Errorf("verify sender %s: %w", sender, err)
		}
		res.Sender = sender
	}
	return res, nil
}

// Provisioned are the resource types the local stack creates.
var Provisioned = map[string]bool{"AWS::DynamoDB::Table": true, "AWS::SQS::Queue": true, "AWS::S3::Bucket": true,
	"AWS::SNS::Topic": true, "AWS::SNS::Subscription": true, "AWS::SES::ConfigurationSet": true, "AWS::SES::ConfigurationSetEventDestination": true,
	"AWS::Events::EventBus": true, "AWS::Events::Rule": true, "AWS::KMS::Key": true}

// AWSOnly are the template's resource types the local stack does not create,
// and why.
var AWSOnly = map[string]string{
	"AWS::Serverless::Function":       "the runner runs each function's binary under the Runtime Interface Emulator (sam local: in Docker)",
	"AWS::Serverless::HttpApi":        "the runner plays API Gateway and its JWT authorizer",
	"AWS::Lambda::EventSourceMapping": "the runner polls the queue (or reads the table's stream) and feeds the function",
	"AWS::Logs::LogGroup":             "function output goes to the runner's log",
	"AWS::IAM::Role":                  "the emulators do not enforce IAM (functions run with the local stack's credentials); local/samtemplate's iam_test.go checks each role against the code instead",
	"AWS::CloudWatch::Alarm":          "no CloudWatch locally; the DLQs themselves are created",
	"AWS::Logs::MetricFilter":         "no CloudWatch Logs locally (the runner logs to its own output); the access log's 429 count is AWS's",
	"AWS::S3::BucketPolicy":           "TLS-only access: the emulators are reached over plain HTTP on loopback (and LocalStack does not enforce bucket policies)",
	"AWS::SQS::QueuePolicy":           "S3 may send the bucket's notifications to the import queue, SNS the SES events to the bounce queue, EventBridge the webhook rule's events to the delivery queue: LocalStack delivers all three without a queue policy (the bucket's notification and the topic's subscription themselves are created)",
}

// CheckLocalCoverage fails on a template resource type the local stack
// neither creates nor lists in AWSOnly.
func CheckLocalCoverage(t *samtemplate.Template) error {
	var unknown []string
	for id, r := range t.Resources {
		if !Provisioned[r.Type] && AWSOnly[r.Type] == "" {
			unknown = append(unknown, id+" ("+r.Type+")")
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("template resources the local stack neither creates nor knows to leave to AWS: %s (local/stack/provision.go)", strings.Join(unknown, ", "))
	}
	return nil
}

func createTable(ctx context.Context, ddb *dynamodb.Client, name string, tb samtemplate.Table) (string, error) {
	out, err := ddb.CreateTable(ctx, TableInput(name, tb))
	if err != nil {
		return "", err
	}
	if tb.TTLAttribute != "" {
		_, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               &name,
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(tb.TTLAttribute), Enabled: aws.Bool(true)},
		})
		if err != nil {
			return "", fmt.Errorf("ttl: %w", err)
		}
	}
	return aws.ToString(out.TableDescription.LatestStreamArn), nil
}

// TableInput is the CreateTable request for the template's table tb, named
// name: keys, attributes, indexes and stream as template.yaml declares them
// (the in-memory DynamoDB of local/memdb is created from the same request).
func TableInput(name string, tb samtemplate.Table) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: &name, BillingMode: ddbtypes.BillingModePayPerRequest}
	if tb.StreamView != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(tb.StreamView)}
	}
	for attr, typ := range tb.Attributes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(attr), AttributeType: ddbtypes.ScalarAttributeType(typ),
		})
	}
	in.KeySchema = keySchema(tb.HashKey, tb.RangeKey)
	for _, ix := range tb.Indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: keySchema(ix.HashKey, ix.RangeKey),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(ix.Projection)},
		})
	}
	return in
}

func keySchema(hash, rng string) []ddbtypes.KeySchemaElement {
	ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange})
	}
	return ks
}

func createBucket(ctx context.Context, s3c *s3.Client, name string, b samtemplate.Bucket, refs map[string]string) error {
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		return err
	}
	if b.Versioned {
		// As the template's VersioningConfiguration: submit records each
		// evidence object's version and validation reads exactly that one.
		if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &name,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			return fmt.Errorf("bucket versioning: %w", err)
		}
	}
	if err := putQueueNotifications(ctx, s3c, name, b, refs); err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	if len(b.CORS) == 0 {
		return nil
	}
	var rules []s3types.CORSRule
	for _, r := range b.CORS {
		rule := s3types.CORSRule{AllowedMethods: r.Methods, AllowedHeaders: r.Headers, MaxAgeSeconds: aws.Int32(int32(r.MaxAge))}
		for _, o := range r.Origins {
			origin, err := samtemplate.Resolve(o, refs)
			if err != nil {
				return fmt.Errorf("cors origin: %w", err)
			}
			rule.AllowedOrigins = append(rule.AllowedOrigins, origin)
		}
		rules = append(rules, rule)
	}
	_, err := s3c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &name, CORSConfiguration: &s3types.CORSConfiguration{CORSRules: rules}})
	return err
}

// putQueueNotifications creates the bucket's notifications to queues
// (NotificationConfiguration.QueueConfigurations), as CloudFormation would:
// the runner's poller then feeds the queue's function.
func putQueueNotifications(ctx context.Context, s3c *s3.Client, name string, b samtemplate.Bucket, refs map[string]string) error {
	if len(b.QueueNotifications) == 0 {
		return nil
	}
	var qcs []s3types.QueueConfiguration
	for _, n := range b.QueueNotifications {
		arn, ok := refs[n.Queue+".Arn"]
		if !ok {
			return fmt.Errorf("queue %s not declared", n.Queue)
		}
		qc := s3types.QueueConfiguration{QueueArn: aws.String(arn), Events: []s3types.Event{s3types.Event(n.Event)}}
		var rules []s3types.FilterRule
		if n.Prefix != "" {
			rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNamePrefix, Value: aws.String(n.Prefix)})
		}
		if n.Suffix != "" {
			rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(n.Suffix)})
		}
		if len(rules) > 0 {
			qc.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
		}
		qcs = append(qcs, qc)
	}
	_, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: &name, NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: qcs},
	})
	return err
}
