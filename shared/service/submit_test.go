package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// countedBucket is the real evidence bucket (LocalStack's S3), counting the
// HeadObjects (Stat) per key; firstStat runs once, at the first one.
type countedBucket struct {
	*evidence.Bucket
	mu        sync.Mutex
	stats     map[string]int
	firstStat func()
}

func (b *countedBucket) Stat(ctx context.Context, key string) (evidence.Object, error) {
	b.mu.Lock()
	b.stats[key]++
	first := b.firstStat
	b.firstStat = nil
	b.mu.Unlock()
	if first != nil {
		first()
	}
	return b.Bucket.Stat(ctx, key)
}

// Submit asks storage about each file not yet confirmed exactly once, even
// when its commit meets a racing writer and is retried; a file confirmed at
// an earlier submit is not asked about again (respond after NeedsInfo).
func TestSubmitAsksStorageAboutEachUnconfirmedFileOnce(t *testing.T) {
	ctx := context.Background()
	testenv.NeedsStack(t) // S3, SQS or SES: LocalStack
	res := testenv.Provision(t)
	cfg := testenv.AWSConfig(t)
	s3c := awsclient.S3(cfg)
	bucket := &countedBucket{Bucket: evidence.New(s3c, res.BucketName), stats: map[string]int{}}
	st := store.New(awsclient.DynamoDB(cfg), res.TableName)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := service.New(st, bucket, queue.New(awsclient.SQS(cfg), res.QueueURL), log)
	racer := service.New(st, bucket, nil, log)

	c, _, err := s.Create(ctx, admin, service.FieldsOf(claimtest.Complete("fabrikam", "72f988bf-86f1-41af-91ab-2d7cd011db47", t0)), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, name := range []string{"a.pdf", "b.pdf", "never-uploaded.pdf"} {
		added, err := s.AddEvidence(ctx, admin, c.ID, service.NewEvidence{FileName: name, ContentType: "application/pdf", Size: int64(len(claimtest.PDF))}, t0)
		if err != nil {
			t.Fatal(err)
		}
		key := evidence.Key(c.ID, added.Evidence.ID)
		keys = append(keys, key)
		if i < 2 {
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(res.BucketName), Key: aws.String(key),
				Body: bytes.NewReader(claimtest.PDF), ContentType: aws.String("application/pdf")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// While submit asks storage, another request changes the claim: its
	// first commit is refused (version conflict) and it reads and tries again.
	raced := false
	bucket.firstStat = func() {
		if _, err := racer.Update(ctx, admin, c.ID, nil, rename("renamed meanwhile"), t0); err != nil {
			t.Error(err)
		}
		raced = true
	}
	got, err := s.Submit(ctx, admin, c.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !raced || got.Name != "renamed meanwhile" || got.Status != claim.StatusSubmitted {
		t.Fatalf("no retry over the racing rename: raced %v, %q %s", raced, got.Name, got.Status)
	}
	for i, key := range keys {
		if n := bucket.stats[key]; n != 1 {
			t.Errorf("file %d asked about %d times, want once", i, n)
		}
	}
	if fmt.Sprint(uploadedOf(got)) != "[true true false]" {
		t.Fatalf("uploaded %v, want the two uploaded files confirmed only", uploadedOf(got))
	}

	// Validation asks for more information; the partner uploads the third
	// file and responds: only that file, never confirmed, is asked about.
	next := *got
	ev, err := claim.Apply(&next, claim.ActionMoreInfoRequested, claim.Actor{Type: claim.ActorSystem, ID: "validation"}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: got.Status, ExpectVersion: got.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(res.BucketName), Key: aws.String(keys[2]),
		Body: bytes.NewReader(claimtest.PDF), ContentType: aws.String("application/pdf")}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Respond(ctx, admin, c.ID, "the third file is there now", t0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(uploadedOf(got)) != "[true true true]" {
		t.Fatalf("uploaded %v after respond, want all three", uploadedOf(got))
	}
	for i, want := range []int{1, 1, 2} {
		if n := bucket.stats[keys[i]]; n != want {
			t.Errorf("file %d asked about %d times in all, want %d", i, n, want)
		}
	}
}

func uploadedOf(c *claim.Claim) []bool {
	var u []bool
	for _, e := range c.Evidence {
		u = append(u, e.Uploaded)
	}
	return u
}
