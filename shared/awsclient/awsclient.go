// Package awsclient builds the AWS SDK clients the functions use. Endpoints
// come only from the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>
// variables (LoadDefaultConfig reads them); the options below adapt to the
// local emulators only when such a variable is set.
package awsclient

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func emulated(service string) bool {
	return os.Getenv("AWS_ENDPOINT_URL_"+service) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// DynamoDB returns a DynamoDB client. DynamoDB Local answers without the
// X-Amz-Crc32 header, so response checksum validation is off against an
// emulator (and on against AWS).
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	local := emulated("DYNAMODB")
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if local {
			o.DisableValidateResponseChecksum = true
		}
	})
}

// S3 returns an S3 client; path-style addressing against an emulator (no
// bucket subdomains on 127.0.0.1).
func S3(cfg aws.Config) *s3.Client {
	local := emulated("S3")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if local {
			o.UsePathStyle = true
			// LocalStack sends no response checksums; do not log each skip.
			o.DisableLogOutputChecksumValidationSkipped = true
		}
	})
}

// SQS returns an SQS client.
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// SES returns an SES client.
func SES(cfg aws.Config) *ses.Client { return ses.NewFromConfig(cfg) }
