package imports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type env struct {
	p       *imports.Processor
	st      *store.Store
	s3      *s3.Client
	sqs     *sqs.Client
	ddb     *dynamodb.Client
	table   string
	bucket  string
	queue   string
	partner string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testenv.NeedsStack(t) // S3, SQS or SES: LocalStack
	res := testenv.Provision(t)
	cfg := testenv.AWSConfig(t)
	e := &env{
		s3: awsclient.S3(cfg), sqs: awsclient.SQS(cfg), ddb: awsclient.DynamoDB(cfg),
		table: res.TableName, bucket: res.BucketName, queue: res.Refs["ImportQueue"],
		partner: "p-" + uuid.NewString()[:8],
	}
	e.st = store.New(e.ddb, e.table)
	e.p = &imports.Processor{
		Store: e.st, Drafts: service.New(e.st, nil, nil, slog.Default()),
		Objects: e.s3, Bucket: e.bucket, Queue: e.sqs, QueueURL: e.queue,
		Clock: func() time.Time { return time.Now().UTC() }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Chunk: 20,
	}
	return e
}

// upload records an import and puts its file, as the browser's POST does.
func (e *env) upload(t *testing.T, content []byte) (id, etag string) {
	t.Helper()
	ctx := context.Background()
	id = uuid.Must(uuid.NewV7()).String()
	im := &store.Import{ID: id, PartnerID: e.partner, FileName: "claims.csv", Size: int64(len(content)),
		Status: store.ImportAwaitingUpload, CreatedAt: time.Now().UTC(),
		Owner: store.ImportOwner{Sub: "user-1", MPNIDs: []string{"1234567"}, Admin: true}}
	if err := e.st.PutImport(ctx, im); err != nil {
		t.Fatal(err)
	}
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.bucket, Key: aws.String(imports.Key(id)),
		Body: bytes.NewReader(content), ContentType: aws.String("text/csv")})
	if err != nil {
		t.Fatal(err)
	}
	return id, aws.ToString(out.ETag)
}

func (e *env) get(t *testing.T, id string) *store.Import {
	t.Helper()
	im, err := e.st.GetImport(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// claims counts the partner's claims.
func (e *env) claims(t *testing.T) int {
	t.Helper()
	n, cur := 0, ""
	for {
		page, err := e.st.List(context.Background(), e.partner, store.ListQuery{Limit: 100, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.Next == "" {
			return n
		}
		cur = page.Next
	}
}

var tenantSeq int

// file builds a CSV of valid rows (each its own tenant) and the extra
// rows given (cells by column name).
func file(valid int, extra ...map[string]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cols := imports.Columns()
	_ = w.Write(cols)
	row := func(m map[string]string) {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = m[c]
		}
		_ = w.Write(cells)
	}
	for i := 0; i < valid; i++ {
		tenantSeq++
		row(map[string]string{
			"mpnId": "1234567", "customer.tenantId": fmt.Sprintf("%08d-0000-4000-8000-%012d", tenantSeq, time.Now().UnixNano()%1e12),
			"customer.domain": "contoso.onmicrosoft.com", "solutionArea": "Microsoft365", "activity": "Usage",
			"name": fmt.Sprintf("Row %d", i), "products": "teams;exchange-online",
		})
	}
	for _, m := range extra {
		row(m)
	}
	w.Flush()
	return b.Bytes()
}

var broken = map[string]string{
	"mpnId": "7654321", "customer.tenantId": "not-a-guid", "customer.domain": "bad domain",
	"solutionArea": "Microsoft365", "activity": "RevenueAssociation", "customerContact.email": "nope",
}

// A redelivered notification, a second one racing the first, and a crash
// after rows were created but before their progress was recorded create
// no Draft twice and leave exact counts.
func TestRowsAreCreatedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, etag := e.upload(t, file(45, broken))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.p.Start(ctx, id, etag) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	im := e.get(t, id)
	if im.Status != store.ImportCompleted || im.Total != 46 || im.Succeeded != 45 || im.Failed != 1 || im.CompletedAt == nil {
		t.Fatalf("import %+v", im)
	}
	if n := e.claims(t); n != 45 {
		t.Fatalf("%d claims, want 45", n)
	}
	// The same notification again: the import is finished, nothing moves.
	if err := e.p.Start(ctx, id, etag); err != nil {
		t.Fatal(err)
	}
	// A crash after every row was written but before any progress was
	// recorded: the import is back at its first row with no counts.
	_, err := e.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &e.table,
		Key:                      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "IMPORT#" + id}, "sk": &ddbtypes.AttributeValueMemberS{Value: "META"}},
		UpdateExpression:         aws.String("SET #st = :p, nextRow = :two, succeeded = :z, #f = :z, #t = :z REMOVE completedAt"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#t": "total", "#f": "failed"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": &ddbtypes.AttributeValueMemberS{Value: store.ImportProcessing}, ":two": &ddbtypes.AttributeValueMemberN{Value: "2"},
			":z": &ddbtypes.AttributeValueMemberN{Value: "0"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.Start(ctx, id, etag); err != nil {
		t.Fatal(err)
	}
	im = e.get(t, id)
	if im.Status != store.ImportCompleted || im.Total != 46 || im.Succeeded != 45 || im.Failed != 1 {
		t.Fatalf("after the re-run: %+v", im)
	}
	if n := e.claims(t); n != 45 {
		t.Fatalf("after the re-run: %d claims, want 45", n)
	}
}

// An invocation near its deadline hands the rest of the file on: every
// invocation does one chunk here (the margin is larger than the time left
// after it), and the continuations finish the import.
func TestNearTheDeadlineTheRestIsHandedOn(t *testing.T) {
	e := newEnv(t)
	e.p.Margin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour-time.Second)
	defer cancel()
	id, etag := e.upload(t, file(50))
	if err := e.p.Start(ctx, id, etag); err != nil {
		t.Fatal(err)
	}
	if im := e.get(t, id); im.Status != store.ImportProcessing || im.Succeeded != 20 || im.NextRow != 22 {
		t.Fatalf("after the first invocation: %+v", im)
	}
	handoffs := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &e.queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			if !strings.Contains(body, `"importId"`) {
				continue // the bucket's own notification of the upload
			}
			handoffs++
			resp, err := e.p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), Body: body}}})
			if err != nil || len(resp.BatchItemFailures) > 0 {
				t.Fatalf("continuation: %v %+v", err, resp)
			}
			_, _ = e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &e.queue, ReceiptHandle: m.ReceiptHandle})
		}
		if e.get(t, id).Status == store.ImportCompleted {
			break
		}
	}
	im := e.get(t, id)
	if im.Status != store.ImportCompleted || im.Total != 50 || im.Succeeded != 50 || handoffs != 2 {
		t.Fatalf("import %+v after %d hand-offs, want Completed after 2", im, handoffs)
	}
	if n := e.claims(t); n != 50 {
		t.Fatalf("%d claims, want 50", n)
	}
}

// A file that is not UTF-8 CSV, has another header or more than 1,000
// rows is Failed, says which, and creates nothing, wherever the fault is.
func TestRefusedFilesCreateNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	latin1 := file(3, map[string]string{"mpnId": "1234567", "name": "Caf\xe9"})
	header := bytes.Replace(file(3), []byte("customer.tenantId"), []byte("customer.tenant"), 1)
	cases := map[string]struct {
		content []byte
		failure string
	}{
		"not UTF-8":       {latin1, "not UTF-8"},
		"other header":    {header, "header is not the template's"},
		"1,001 rows":      {file(1001), "more than 1000 rows"},
		"empty":           {[]byte(" "), "header is not the template's"},
		"broken quoting":  {append(file(2), []byte("\"a\"b,"+strings.Repeat(",", len(imports.Columns())-2)+"\n")...), "not valid CSV"},
		"spreadsheet BOM": {append([]byte("\uFEFF"), file(2)...), ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := e.claims(t)
			id, etag := e.upload(t, c.content)
			if err := e.p.Start(ctx, id, etag); err != nil {
				t.Fatal(err)
			}
			im := e.get(t, id)
			if c.failure == "" {
				if im.Status != store.ImportCompleted || im.Succeeded != 2 {
					t.Fatalf("%+v", im)
				}
				return
			}
			if im.Status != store.ImportFailed || !strings.Contains(im.Failure, c.failure) || im.CompletedAt == nil {
				t.Fatalf("import %+v, want Failed with %q", im, c.failure)
			}
			if n := e.claims(t); n != before {
				t.Fatalf("%d claims created by a refused file", n-before)
			}
		})
	}
}

// A file replaced through the same upload (its presigned POST used again)
// is not read: the import was started for the first file's ETag.
func TestReplacedFileIsNotRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, etag := e.upload(t, file(2))
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.bucket, Key: aws.String(imports.Key(id)),
		Body: bytes.NewReader(file(3)), ContentType: aws.String("text/csv")}); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Start(ctx, id, etag); err != nil {
		t.Fatal(err)
	}
	if im := e.get(t, id); im.Status != store.ImportFailed || !strings.Contains(im.Failure, "replaced") || e.claims(t) != 0 {
		t.Fatalf("import %+v, %d claims", im, e.claims(t))
	}
}

// The partner's imports list newest first, a page at a time.
func TestImportsArePaged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		id, _ := e.upload(t, file(0))
		ids = append(ids, id)
		time.Sleep(2 * time.Millisecond)
	}
	u := imports.NewUploads(e.st, nil)
	who := service.Caller{PartnerID: e.partner}
	first, next, err := u.List(ctx, who, 2, "")
	if err != nil || len(first) != 2 || next == "" || first[0].ID != ids[2] || first[1].ID != ids[1] {
		t.Fatalf("first page %+v %q %v", first, next, err)
	}
	rest, next2, err := u.List(ctx, who, 2, next)
	if err != nil || len(rest) != 1 || rest[0].ID != ids[0] || next2 != "" {
		t.Fatalf("second page %+v %q %v", rest, next2, err)
	}
	if _, _, err := u.List(ctx, service.Caller{PartnerID: "other"}, 2, next); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("another partner's cursor: %v", err)
	}
}
