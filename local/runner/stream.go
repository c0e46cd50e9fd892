package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// StreamsAPI is the part of DynamoDB Streams the stream player uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// StreamPlayer plays a DynamoDB stream event source mapping against
// DynamoDB Local's stream, with Lambda's semantics: each shard is read in
// order (a child after its parent), batches of at most BatchSize records;
// with ReportBatchItemFailures the batch is read again from the first
// record the function reported; a failed invocation is retried (halving
// the batch when Bisect), and after MaxRetries retries of one batch its
// coordinates go to the on-failure queue and the shard moves on.
type StreamPlayer struct {
	Streams    StreamsAPI
	StreamARN  string
	Region     string
	Start      types.ShardIteratorType // TRIM_HORIZON or LATEST, for the shards open at start
	BatchSize  int
	Bisect     bool
	MaxRetries int // <0: until the record leaves the stream
	OnFailure  string
	SQS        SQSAPIWithSend
	Idle       time.Duration // between reads of an idle shard
	Invoke     func(ctx context.Context, payload []byte) ([]byte, error)
	Log        *slog.Logger
	Ready      func()

	shards map[string]*shardState
}

// SQSAPIWithSend sends the on-failure records.
type SQSAPIWithSend interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

type shardState struct {
	id, parent string
	iterator   *string
	done       bool
	started    bool
	limit      int    // records in the next batch (bisect lowers it)
	retries    int    // failed attempts of the current batch
	first      string // sequence number the current retries are about
}

// Run plays the mapping until ctx is done.
func (p *StreamPlayer) Run(ctx context.Context) {
	if p.BatchSize < 1 {
		p.BatchSize = 100
	}
	if p.Idle <= 0 {
		p.Idle = 100 * time.Millisecond
	}
	p.shards = map[string]*shardState{}
	initial := true
	lastDescribe := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastDescribe) > time.Second {
			if err := p.describe(ctx, initial); err != nil {
				if ctx.Err() == nil {
					p.Log.Error("describe stream failed", "stream", p.StreamARN, "error", err)
					sleep(ctx, time.Second)
				}
				continue
			}
			lastDescribe = time.Now()
			if initial && p.Ready != nil {
				p.Ready()
			}
			initial = false
		}
		busy := false
		for _, id := range p.order() {
			s := p.shards[id]
			if s.done || (s.parent != "" && p.shards[s.parent] != nil && !p.shards[s.parent].done) {
				continue
			}
			n, err := p.step(ctx, s)
			if err != nil && ctx.Err() == nil {
				p.Log.Error("stream read failed", "shard", s.id, "error", err)
			}
			busy = busy || n > 0
		}
		if !busy {
			sleep(ctx, p.Idle)
		}
	}
}

func (p *StreamPlayer) order() []string {
	ids := make([]string, 0, len(p.shards))
	for id := range p.shards {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (p *StreamPlayer) describe(ctx context.Context, initial bool) error {
	var start *string
	for {
		out, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &p.StreamARN, ExclusiveStartShardId: start})
		if err != nil {
			return err
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if _, ok := p.shards[id]; ok {
				continue
			}
			st := &shardState{id: id, parent: aws.ToString(sh.ParentShardId), limit: p.BatchSize}
			// Shards that appear later are read from their start
			// (TRIM_HORIZON): they hold only records written after the
			// mapping started.
			p.shards[id] = st
			p.Log.Info("stream shard", "shard", id, "parent", st.parent)
			if initial && p.Start == types.ShardIteratorTypeLatest {
				it, err := p.iterator(ctx, id, types.ShardIteratorTypeLatest, "")
				if err != nil {
					return err
				}
				st.iterator, st.started = it, true
			}
		}
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return nil
		}
	}
}

func (p *StreamPlayer) iterator(ctx context.Context, shard string, typ types.ShardIteratorType, seq string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &p.StreamARN, ShardId: &shard, ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = &seq
	}
	out, err := p.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// step reads and delivers one batch of a shard; it returns how many
// records it read.
func (p *StreamPlayer) step(ctx context.Context, s *shardState) (int, error) {
	if !s.started {
		it, err := p.iterator(ctx, s.id, types.ShardIteratorTypeTrimHorizon, "")
		if err != nil {
			return 0, err
		}
		s.iterator, s.started = it, true
	}
	if s.iterator == nil {
		s.done = true
		return 0, nil
	}
	out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(int32(s.limit))})
	if err != nil {
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired) && s.first != "":
			s.iterator, err = p.iterator(ctx, s.id, types.ShardIteratorTypeAtSequenceNumber, s.first)
		case errors.As(err, &trimmed):
			// The records the iterator pointed at are gone (DynamoDB
			// Local trims a shared stream store when another table is
			// deleted): resume, as Lambda does, at the oldest record left.
			p.Log.Warn("stream records trimmed; resuming at the trim horizon", "shard", s.id)
			s.iterator, err = p.iterator(ctx, s.id, types.ShardIteratorTypeTrimHorizon, "")
		}
		return 0, err
	}
	recs := out.Records
	if len(recs) == 0 {
		s.iterator = out.NextShardIterator
		if s.iterator == nil {
			s.done = true
		}
		return 0, nil
	}
	failedAt, err := p.deliver(ctx, recs)
	switch {
	case err == nil && failedAt < 0:
		s.iterator, s.retries, s.first, s.limit = out.NextShardIterator, 0, "", p.BatchSize
		if s.iterator == nil {
			s.done = true
		}
		return len(recs), nil
	case err != nil:
		p.Log.Error("stream batch failed; it is retried", "shard", s.id, "records", len(recs), "error", err)
		failedAt = 0
		if p.Bisect && len(recs) > 1 {
			s.limit = (len(recs) + 1) / 2
		}
	}
	seq := aws.ToString(recs[failedAt].Dynamodb.SequenceNumber)
	if seq != s.first {
		s.first, s.retries = seq, 0
	}
	s.retries++
	if p.MaxRetries >= 0 && s.retries > p.MaxRetries {
		p.giveUp(ctx, s, recs[failedAt:])
		s.iterator, s.retries, s.first, s.limit = out.NextShardIterator, 0, "", p.BatchSize
		if s.iterator == nil {
			s.done = true
		}
		return len(recs), nil
	}
	it, ierr := p.iterator(ctx, s.id, types.ShardIteratorTypeAtSequenceNumber, seq)
	if ierr != nil {
		return len(recs), ierr
	}
	s.iterator = it
	// Lambda backs off between retries of a failed batch.
	sleep(ctx, min(time.Duration(s.retries)*100*time.Millisecond, 2*time.Second))
	return len(recs), nil
}

// deliver invokes the function with recs. failedAt is the index of the
// first record the function reported as failed (-1: none).
func (p *StreamPlayer) deliver(ctx context.Context, recs []types.Record) (failedAt int, err error) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 0, len(recs))}
	index := map[string]int{}
	for i, r := range recs {
		er, err := lambdaRecord(r, p.StreamARN, p.Region)
		if err != nil {
			return 0, err
		}
		index[er.Change.SequenceNumber] = i
		ev.Records = append(ev.Records, er)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	result, err := p.Invoke(ctx, payload)
	if err != nil {
		return 0, err
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(result, &resp); err != nil {
		return 0, fmt.Errorf("unreadable response %q: %w", result, err)
	}
	failedAt = -1
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			// Lambda fails the whole batch on an unknown identifier.
			return 0, fmt.Errorf("batchItemFailures names %q, not a record of the batch", f.ItemIdentifier)
		}
		if failedAt < 0 || i < failedAt {
			failedAt = i
		}
	}
	return failedAt, nil
}

// giveUp sends the on-failure record Lambda sends for a stream batch it
// gives up on (its coordinates, not the records themselves).
func (p *StreamPlayer) giveUp(ctx context.Context, s *shardState, recs []types.Record) {
	p.Log.Error("stream batch dropped after its retries", "shard", s.id, "records", len(recs))
	if p.OnFailure == "" || p.SQS == nil {
		return
	}
	body, _ := json.Marshal(map[string]any{
		"requestContext": map[string]any{"condition": "RetryAttemptsExhausted", "approximateInvokeCount": s.retries},
		"DDBStreamBatchInfo": map[string]any{
			"shardId": s.id, "streamArn": p.StreamARN, "batchSize": len(recs),
			"startSequenceNumber": aws.ToString(recs[0].Dynamodb.SequenceNumber),
			"endSequenceNumber":   aws.ToString(recs[len(recs)-1].Dynamodb.SequenceNumber),
		},
	})
	if _, err := p.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &p.OnFailure, MessageBody: aws.String(string(body))}); err != nil {
		p.Log.Error("on-failure destination refused the record", "error", err)
	}
}

// lambdaRecord is a stream record as Lambda hands it to the function.
func lambdaRecord(r types.Record, arn, region string) (events.DynamoDBEventRecord, error) {
	d := r.Dynamodb
	er := events.DynamoDBEventRecord{
		AWSRegion: region, EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: "aws:dynamodb", EventVersion: aws.ToString(r.EventVersion), EventSourceArn: arn,
		Change: events.DynamoDBStreamRecord{SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType)},
	}
	if d.ApproximateCreationDateTime != nil {
		er.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	var err error
	for _, img := range []struct {
		src map[string]types.AttributeValue
		dst *map[string]events.DynamoDBAttributeValue
	}{{d.Keys, &er.Change.Keys}, {d.NewImage, &er.Change.NewImage}, {d.OldImage, &er.Change.OldImage}} {
		if img.src == nil {
			continue
		}
		if *img.dst, err = toLambdaImage(img.src); err != nil {
			return er, err
		}
	}
	return er, nil
}

func toLambdaImage(m map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	// The stream's attribute values are DynamoDB's JSON form, which is
	// also Lambda's: go through it.
	raw := map[string]any{}
	for k, v := range m {
		j, err := avJSON(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		raw[k] = j
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var out map[string]events.DynamoDBAttributeValue
	return out, json.Unmarshal(b, &out)
}

func avJSON(v types.AttributeValue) (any, error) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(x.Value)}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}, nil
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(x.Value))
		for i, b := range x.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			l[i] = j
		}
		return map[string]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range x.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			m[k] = j
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("unknown attribute value %T", v)
}
