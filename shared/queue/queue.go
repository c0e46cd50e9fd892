// Package queue sends validation jobs to the SQS queue the validation
// worker consumes.
package queue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Job asks the worker to validate a claim as it stood at Version (the
// version of its Submitted state). The worker ignores a job whose claim has
// moved on, so a redelivered or re-queued job changes nothing twice.
type Job struct {
	ClaimID string `json:"claimId"`
	Version int64  `json:"version"`
}

// Sender is the part of the SQS API used to send jobs.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue sends jobs to one queue.
type Queue struct {
	sqs Sender
	url string
}

// New returns a queue sender.
func New(s Sender, url string) *Queue { return &Queue{sqs: s, url: url} }

// Send queues a validation job.
func (q *Queue) Send(ctx context.Context, j Job) error {
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if _, err := q.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("queue validation of %s: %w", j.ClaimID, err)
	}
	return nil
}

// ParseJob reads a job from a message body.
func ParseJob(body string) (Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return j, fmt.Errorf("job: %w", err)
	}
	if j.ClaimID == "" || j.Version < 1 {
		return j, fmt.Errorf("job: claimId and version are required")
	}
	return j, nil
}
