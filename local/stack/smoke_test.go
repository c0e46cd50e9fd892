package stack_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/sesmail"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/evidence"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestTableFromTemplate(t *testing.T) {
	res := testenv.Provision(t)
	ddb := awsclient.DynamoDB(testenv.AWSConfig(t))
	out, err := ddb.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &res.TableName})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		names[aws.ToString(g.IndexName)] = string(g.Projection.ProjectionType)
	}
	if names["ByPartner"] != "ALL" || names["ByDeadline"] != "ALL" || names["ByHolder"] != "ALL" {
		t.Fatalf("indexes %v", names)
	}
	ttl, err := ddb.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: &res.TableName})
	if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Fatalf("ttl %+v %v", ttl, err)
	}
}

func TestSQSRedrivesToTheDeadLetterQueue(t *testing.T) {
	res := testenv.Provision(t)
	ctx := context.Background()
	q := awsclient.SQS(testenv.AWSConfig(t))
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &res.QueueURL, MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	// template.yaml: maxReceiveCount 5. Receive it 5 times without deleting.
	for i := range 5 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.QueueURL, WaitTimeSeconds: 2})
		if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "poison" {
			t.Fatalf("receive %d: %v %v", i, len(out.Messages), err)
		}
		// Not deleted: make it visible again at once, as a failed job does.
		if _, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &res.QueueURL, ReceiptHandle: out.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.QueueURL, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("a sixth receive still got it: %+v %v", out, err)
	}
	dlq, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &res.DLQURL, WaitTimeSeconds: 2})
	if err != nil || len(dlq.Messages) != 1 || aws.ToString(dlq.Messages[0].Body) != "poison" {
		t.Fatalf("dead-letter queue: %+v %v", dlq, err)
	}
}

func TestSESSendsFromTheVerifiedSenderOnly(t *testing.T) {
	res := testenv.Provision(t)
	ctx := context.Background()
	s := awsclient.SES(testenv.AWSConfig(t))
	to := "smoke-" + time.Now().Format("150405.000000") + "@contoso.example"
	send := func(from string) error {
		_, err := s.SendEmail(ctx, &ses.SendEmailInput{
			Source:      aws.String(from),
			Destination: &sestypes.Destination{ToAddresses: []string{to}},
			Message: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("smoke")},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hello")}}},
		})
		return err
	}
	if err := send(res.Sender); err != nil {
		t.Fatalf("verified sender: %v", err)
	}
	if err := send("stranger@unverified.example"); err == nil {
		t.Fatal("an unverified sender was accepted")
	}
	mails, err := sesmail.Fetch(ctx, os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil {
		t.Fatal(err)
	}
	got := sesmail.To(mails, to)
	if len(got) != 1 || got[0].Text != "hello" || got[0].From != res.Sender {
		t.Fatalf("mail read back: %+v", got)
	}
}

// post sends a presigned POST form with the file last.
func post(t *testing.T, up evidence.Upload, fields map[string]string, content []byte) int {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range up.Fields {
		if o, ok := fields[k]; ok {
			v = o
		}
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "sow.pdf")
	_, _ = fw.Write(content)
	_ = w.Close()
	resp, err := http.Post(up.URL, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestS3EnforcesThePresignedPostPolicy(t *testing.T) {
	res := testenv.Provision(t)
	ctx := context.Background()
	client := awsclient.S3(testenv.AWSConfig(t))
	b := evidence.New(client, res.BucketName)
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 91)...) // 100 bytes
	key := evidence.Key("claim-1", "ev-1")
	up, err := b.PresignUpload(ctx, key, "application/pdf", int64(len(pdf)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code := post(t, up, nil, append(pdf, 'x')); code < 400 {
		t.Fatalf("an oversized file was stored (%d)", code)
	}
	if code := post(t, up, map[string]string{"key": "evidence/claim-1/other"}, pdf); code < 400 {
		t.Fatalf("a wrong key was stored (%d)", code)
	}
	if code := post(t, up, map[string]string{"Content-Type": "text/html"}, pdf); code < 400 {
		t.Fatalf("a wrong content type was stored (%d)", code)
	}
	if _, err := b.Stat(ctx, key); err != evidence.ErrMissing {
		t.Fatalf("a refused upload left an object: %v", err)
	}
	if code := post(t, up, nil, pdf); code >= 300 {
		t.Fatalf("the declared upload was refused (%d)", code)
	}
	obj, err := b.Stat(ctx, key)
	if err != nil || obj.Size != int64(len(pdf)) || obj.ContentType != "application/pdf" {
		t.Fatalf("stored object %+v %v", obj, err)
	}
	head, err := b.Head(ctx, key, obj.VersionID, evidence.SniffLen)
	if err != nil || !evidence.Matches("application/pdf", head) || evidence.Matches("image/png", head) {
		t.Fatalf("head %q %v", head, err)
	}
	if _, err := b.PresignUpload(ctx, key, "text/html", 10, time.Now()); err == nil {
		t.Fatal("a text/html upload was presigned")
	}
	// The template is uploaded on first use and downloadable by its link.
	u, err := b.TemplateURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(doc), "Customer acknowledgement") || !strings.Contains(string(doc), "Signature") {
		t.Fatalf("template download: %d %.80q", resp.StatusCode, doc)
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &res.BucketName, Key: aws.String(evidence.TemplateKey)}); err != nil {
		t.Fatal(err)
	}
}
