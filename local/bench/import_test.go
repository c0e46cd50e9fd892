package bench_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/bench"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

const importSection = "Bulk import (ImportFunction's handler, called directly)"

// txLog keeps every TransactWriteItems input, so that the raw side replays
// exactly the create transactions the import made.
type txLog struct {
	*dynamodb.Client
	mu  sync.Mutex
	txs []*dynamodb.TransactWriteItemsInput
}

func (l *txLog) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	l.mu.Lock()
	l.txs = append(l.txs, in)
	l.mu.Unlock()
	return l.Client.TransactWriteItems(ctx, in, o...)
}

func (l *txLog) take() []*dynamodb.TransactWriteItemsInput {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.txs
	l.txs = nil
	return out
}

// BenchmarkImport: a 1,000-row file, from the upload's notification (the
// SQS message ImportFunction receives) to Completed, against the writes it
// cannot avoid: its 1,000 create transactions (claim, `created` event, the
// row's guard), replayed with fresh ids at the same concurrency.
func BenchmarkImport(b *testing.B) {
	const rows = 1000
	res := testenv.Provision(b)
	cfg := testenv.AWSConfig(b)
	ctx := context.Background()
	log := &txLog{Client: awsclient.DynamoDB(cfg)}
	st := store.New(log, res.TableName)
	s3c := awsclient.S3(cfg)
	p := &imports.Processor{
		Store: st, Drafts: service.New(st, nil, nil, quiet), Objects: s3c, Bucket: res.BucketName,
		Queue: awsclient.SQS(cfg), QueueURL: res.Refs["ImportQueue"], Clock: func() time.Time { return time.Now().UTC() },
		Log: quiet, Workers: imports.DefaultWorkers,
	}
	var content bytes.Buffer
	w := csv.NewWriter(&content)
	_ = w.Write(imports.Columns())
	for i := range rows {
		cells := map[string]string{
			"name": fmt.Sprintf("Bulk %d <b>markup</b>", i), "mpnId": "1234567",
			"customer.tenantId": fmt.Sprintf("%08d-0000-4000-8000-%012d", i, time.Now().UnixNano()%1e12),
			"customer.domain":   "contoso.onmicrosoft.com", "solutionArea": "Microsoft365", "activity": "Usage",
			"products": "teams;exchange-online", "customerContact.name": "Ana", "customerContact.email": "ana@contoso.onmicrosoft.com",
		}
		row := make([]string, 0, len(imports.Columns()))
		for _, c := range imports.Columns() {
			row = append(row, cells[c])
		}
		_ = w.Write(row)
	}
	w.Flush()
	var ours, raw time.Duration
	var prev []*dynamodb.TransactWriteItemsInput
	var prevID string
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := uuid.Must(uuid.NewV7()).String()
		if err := st.PutImport(ctx, &store.Import{ID: id, PartnerID: partner, FileName: "bulk.csv", Size: int64(content.Len()),
			Status: store.ImportAwaitingUpload, CreatedAt: time.Now().UTC(),
			Owner: store.ImportOwner{Sub: "admin@bench.example", MPNIDs: []string{"1234567"}, Admin: true}}); err != nil {
			b.Fatal(err)
		}
		put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &res.BucketName, Key: aws.String(imports.Key(id)),
			Body: bytes.NewReader(content.Bytes()), ContentType: aws.String(imports.ContentType)})
		if err != nil {
			b.Fatal(err)
		}
		note, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{{
			EventSource: "aws:s3", EventName: "ObjectCreated:Post",
			S3: events.S3Entity{Bucket: events.S3Bucket{Name: res.BucketName}, Object: events.S3Object{Key: imports.Key(id), ETag: strings.Trim(aws.ToString(put.ETag), `"`)}},
		}}})
		log.take()
		// Alternate which side runs first (the emulator's table grows as
		// both write): on odd runs the raw side replays the previous run's
		// transactions first.
		replay := func(txs []*dynamodb.TransactWriteItemsInput, importID string) time.Duration {
			newImport := uuid.Must(uuid.NewV7()).String()
			clones := make([]*dynamodb.TransactWriteItemsInput, len(txs))
			for j, tx := range txs {
				pk := tx.TransactItems[0].Put.Item["pk"].(*types.AttributeValueMemberS).Value
				claimID := strings.TrimPrefix(pk, "CLAIM#")
				clones[j] = cloneTx(tx, strings.NewReplacer(claimID, uuid.Must(uuid.NewV7()).String(), importID, newImport))
			}
			db := log.Client
			start := time.Now()
			parallel(b, p.Workers, len(clones), func(j int) error {
				_, err := db.TransactWriteItems(ctx, clones[j])
				return err
			})
			return time.Since(start)
		}
		rawFirst := i%2 == 1 && prev != nil
		if rawFirst {
			raw += replay(prev, prevID)
		}
		b.StartTimer()

		start := time.Now()
		resp, err := p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "bench", Body: string(note)}}})
		took := time.Since(start)

		b.StopTimer()
		if err != nil || len(resp.BatchItemFailures) > 0 {
			b.Fatalf("import: %v %+v", err, resp)
		}
		im, err := st.GetImport(ctx, id)
		if err != nil || im.Status != store.ImportCompleted || im.Succeeded != rows {
			b.Fatalf("import %+v %v", im, err)
		}
		txs := log.take()
		if len(txs) != rows {
			b.Fatalf("%d create transactions, want %d", len(txs), rows)
		}
		if !rawFirst {
			raw += replay(txs, id)
		}
		prev, prevID = txs, id
		b.StartTimer()
		ours += took
	}
	n := time.Duration(b.N)
	ours, raw = ours/n, raw/n
	ratio := float64(ours) / float64(raw)
	rate := func(d time.Duration) float64 { return rows / d.Seconds() }
	b.ReportMetric(rate(ours), "rows/s")
	b.ReportMetric(rate(raw), "raw-rows/s")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("import: %d rows in %s: %.0f rows/s; raw create transactions %.0f rows/s; ratio %.2fx (goal ≤ 1.5x)\n",
		rows, ours.Round(time.Millisecond), rate(ours), rate(raw), ratio)
	bench.Record(bench.Figure{Section: importSection, Name: "1,000-row import, notification to Completed",
		Value: fmt.Sprintf("%.0f rows/s", rate(ours)), Versus: fmt.Sprintf("%.0f rows/s", rate(raw)),
		Ratio: fmt.Sprintf("%.2fx", ratio), Goal: "≤ 1.5x", Met: ratio <= 1.5,
		Note: fmt.Sprintf("%s per file, %d rows at once, progress after every %d rows; raw: the same %d create transactions (claim, `created` event, row guard) replayed with fresh ids at the same concurrency; runs=%d",
			bench.Ms(ours), p.Workers, imports.DefaultChunk, rows, b.N)})
}
