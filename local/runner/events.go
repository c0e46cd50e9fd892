package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// BusEvent is an event as EventBridge delivers it to an SQS target.
type BusEvent struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources,omitempty"`
	Detail     json.RawMessage `json:"detail"`
}

// eventsTap drains the local-only tap queue (a catch-all rule on the
// claims bus) into memory: GET /_local/events.
type eventsTap struct {
	mu     sync.Mutex
	events []BusEvent
}

func (t *eventsTap) run(ctx context.Context, q *sqs.Client, url string, ready func()) {
	for ctx.Err() == nil {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if ready != nil {
			ready()
			ready = nil
		}
		var del []types.DeleteMessageBatchRequestEntry
		t.mu.Lock()
		for i, m := range out.Messages {
			var ev BusEvent
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &ev) == nil {
				t.events = append(t.events, ev)
			}
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), ReceiptHandle: m.ReceiptHandle})
		}
		t.mu.Unlock()
		if len(del) > 0 {
			_, _ = q.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del})
		}
	}
}

// Events returns the events put on the claims bus so far, oldest first (as
// delivered).
func (r *Runner) Events() []BusEvent {
	if r.tap == nil {
		return nil
	}
	r.tap.mu.Lock()
	defer r.tap.mu.Unlock()
	return append([]BusEvent{}, r.tap.events...)
}

// startStreams plays the template's stream event source mappings and the
// events tap.
func (r *Runner) startStreams(ctx context.Context) ([]pollerStart, error) {
	cfg := mustConfig(ctx)
	streams := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		// DynamoDB Local serves the streams of its tables (not LocalStack).
		o.BaseEndpoint = aws.String(r.stack.DynamoDBURL)
	})
	sqsClient := awsclient.SQS(cfg)
	var starts []pollerStart
	for _, f := range r.tmpl.Functions() {
		st := f.Stream
		if st == nil {
			continue
		}
		arn := r.res.StreamARNs[st.Table]
		ps := pollerStart{function: f.ID, queue: arn, ready: make(chan struct{})}
		starts = append(starts, ps)
		p := &StreamPlayer{Streams: streams, StreamARN: arn, Region: stack.Region, Start: streamStart(st.StartingPosition),
			BatchSize: st.BatchSize, Bisect: st.Bisect, MaxRetries: st.MaximumRetryAttempts, SQS: sqsClient,
			Invoke: r.functions[f.ID].Invoke, Log: r.log.With("function", f.ID, "mapping", st.ID),
			Ready: sync.OnceFunc(func() { close(ps.ready) })}
		if st.OnFailure != "" {
			p.OnFailure = r.res.Refs[st.OnFailure]
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); p.Run(ctx) }()
	}
	if r.res.EventsTapURL != "" {
		r.tap = &eventsTap{}
		ps := pollerStart{function: "events tap", queue: r.res.EventsTapURL, ready: make(chan struct{})}
		starts = append(starts, ps)
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.tap.run(ctx, sqsClient, r.res.EventsTapURL, func() { close(ps.ready) }) }()
	}
	return starts, nil
}

func streamStart(pos string) streamtypes.ShardIteratorType {
	if pos == "LATEST" {
		return "LATEST"
	}
	return "TRIM_HORIZON"
}

// localEvents serves GET and POST /_local/events.
func (r *Runner) localEvents(w http.ResponseWriter, req *http.Request) {
	switch req.Method {
	case http.MethodGet:
		items := r.Events()
		if items == nil {
			items = []BusEvent{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	case http.MethodPost:
		var in struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		body, _ := io.ReadAll(io.LimitReader(req.Body, 256<<10))
		if err := json.Unmarshal(body, &in); err != nil || in.Source == "" || in.DetailType == "" || len(in.Detail) == 0 || in.Detail[0] != '{' {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": `want {"source","detail-type","detail":{...}}`})
			return
		}
		id, err := r.PutEvent(req.Context(), in.Source, in.DetailType, string(in.Detail))
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	default:
		w.Header().Set("Allow", "GET, POST")
		gatewayMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

// PutEvent puts one event on the claims bus, as `aws events put-events`.
func (r *Runner) PutEvent(ctx context.Context, source, detailType, detail string) (string, error) {
	bus := r.res.Refs[r.busID()]
	out, err := eventbridge.NewFromConfig(mustConfig(ctx)).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: &bus, Source: &source, DetailType: &detailType, Detail: &detail,
	}}})
	if err != nil {
		return "", err
	}
	if len(out.Entries) != 1 || out.Entries[0].ErrorCode != nil {
		return "", fmt.Errorf("PutEvents refused the event: %v", out.Entries)
	}
	return aws.ToString(out.Entries[0].EventId), nil
}

func (r *Runner) busID() string {
	for _, b := range r.tmpl.Buses() {
		return b.ID
	}
	return ""
}
