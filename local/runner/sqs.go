package runner

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of SQS the poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Poller plays the SQS event source mapping: it receives batches, invokes
// the function with an SQS event and deletes only the messages the
// function did not report in batchItemFailures (ReportBatchItemFailures).
// A failed message stays on the queue and comes back after RetryDelay (the
// queue's visibility timeout when zero); the queue's redrive policy moves it
// to the dead-letter queue after maxReceiveCount receives.
type Poller struct {
	SQS        SQSAPI
	QueueURL   string
	QueueARN   string
	Region     string
	BatchSize  int
	RetryDelay time.Duration
	Invoke     func(ctx context.Context, payload []byte) ([]byte, error)
	Log        *slog.Logger
	// Ready, when set, is called once, after the first receive that
	// succeeded (the runner is healthy only from then on).
	Ready func()
}

// Run polls until ctx is done.
func (p *Poller) Run(ctx context.Context) {
	batch := p.BatchSize
	if batch < 1 || batch > 10 {
		batch = 10
	}
	ready := p.Ready
	for ctx.Err() == nil {
		out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &p.QueueURL,
			MaxNumberOfMessages:         int32(batch),
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				p.Log.Error("receive failed", "queue", p.QueueURL, "error", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if ready != nil {
			ready()
			ready = nil
		}
		if len(out.Messages) == 0 {
			continue
		}
		p.handle(ctx, out.Messages)
	}
}

func (p *Poller) handle(ctx context.Context, msgs []types.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: p.QueueARN, AWSRegion: p.Region,
		})
	}
	payload, _ := json.Marshal(ev)
	result, err := p.Invoke(ctx, payload)
	failed := map[string]bool{}
	if err != nil {
		// The whole invocation failed: every message is retried.
		p.Log.Error("worker invocation failed; the batch is retried", "error", err)
		for _, m := range msgs {
			failed[aws.ToString(m.MessageId)] = true
		}
	} else {
		var resp events.SQSEventResponse
		if err := json.Unmarshal(result, &resp); err != nil {
			p.Log.Error("unreadable worker response; the batch is retried", "error", err)
			for _, m := range msgs {
				failed[aws.ToString(m.MessageId)] = true
			}
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		if failed[id] {
			if p.RetryDelay > 0 {
				_, _ = p.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: &p.QueueURL, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(p.RetryDelay / time.Second),
				})
			}
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		if _, err := p.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &p.QueueURL, Entries: del}); err != nil {
			p.Log.Error("delete failed", "error", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
