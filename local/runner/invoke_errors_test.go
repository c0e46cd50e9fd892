package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// failingFunction runs testdata/failfn under AWS's Runtime Interface
// Emulator, as the runner runs every function, with a 1 s timeout.
func failingFunction(t *testing.T) *runner.Function {
	t.Helper()
	rie, err := stack.RIE(testenv.Root())
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", append(append([]string{"build"}, runner.LambdaBuildFlags...), "-o", bin, "./testdata/failfn")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build failfn: %v\n%s", err, out)
	}
	f := &runner.Function{Name: "FailFunction", RIE: rie, Binary: bin, Max: 1, Timeout: time.Second,
		Env: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=1", "AWS_LAMBDA_FUNCTION_NAME=FailFunction", "PATH=" + os.Getenv("PATH")}, Log: apitest.LogSink()}
	t.Cleanup(f.Close)
	return f
}

// Every way an invocation fails is a *runner.FunctionError with the payload
// Lambda's Invoke returns for it; the emulator's plain-text timeout answer
// (200 "Task timed out after 1.00 seconds") above all is no result. After
// each failure the function answers again.
func TestInvokeReportsEveryFunctionFailure(t *testing.T) {
	f := failingFunction(t)
	ctx := context.Background()
	for _, c := range []struct{ mode, errType, message string }{
		{"error", "errorString", "it failed"},
		{"panic", "string", "boom"},
		{"exit", "Runtime.ExitError", "Runtime exited with error: exit status 3"},
		{"sleep", "Sandbox.Timedout", "Task timed out after 1.00 seconds"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			started := time.Now()
			res, err := f.Invoke(ctx, []byte(`{"mode":"`+c.mode+`"}`))
			var fe *runner.FunctionError
			if !errors.As(err, &fe) || !errors.Is(err, runner.ErrFunctionError) {
				t.Fatalf("invoke %s: result %s, error %v: want a function error", c.mode, res, err)
			}
			if res != nil {
				t.Fatalf("a failed invocation returned a result: %s", res)
			}
			var p map[string]any
			if err := json.Unmarshal(fe.Payload, &p); err != nil {
				t.Fatalf("payload is not Lambda's error JSON: %s", fe.Payload)
			}
			if p["errorType"] != c.errType || fe.Type != c.errType || !strings.Contains(p["errorMessage"].(string), c.message) {
				t.Fatalf("payload %s (type %q), want errorType %q with %q", fe.Payload, fe.Type, c.errType, c.message)
			}
			if c.mode == "sleep" && time.Since(started) < time.Second {
				t.Fatalf("timed out after %s, before the function's 1 s", time.Since(started))
			}
			if res, err := f.Invoke(ctx, []byte(`{"mode":"ok"}`)); err != nil || string(res) != `{"ok":true}` {
				t.Fatalf("after %s the function answers %s, %v", c.mode, res, err)
			}
		})
	}
}

// The queue poller, on a real (emulated) queue, treats an invocation that
// timed out under the real emulator as a failed batch, as the event source
// mapping does: nothing of it is deleted and its message comes back; a
// batch that succeeds is deleted.
func TestPollerKeepsATimedOutBatch(t *testing.T) {
	f := failingFunction(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sq := awsclient.SQS(testenv.AWSConfig(t))
	name := fmt.Sprintf("poller-timeout-%d", time.Now().UnixNano()%1e9)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	defer sq.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url})
	var mu sync.Mutex
	var invocations []error
	p := &runner.Poller{SQS: sq, QueueURL: url, BatchSize: 1, RetryDelay: time.Second, Log: slog.New(slog.NewTextHandler(apitest.LogSink(), nil)),
		Invoke: func(ctx context.Context, payload []byte) ([]byte, error) {
			res, err := f.Invoke(ctx, payload)
			mu.Lock()
			invocations = append(invocations, err)
			mu.Unlock()
			return res, err
		}}
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	invoked := func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), invocations...)
	}

	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(`{"mode":"sleep"}`)}); err != nil {
		t.Fatal(err)
	}
	apitest.WaitFor(t, "the message to be received twice", 30*time.Second, func() bool { return len(invoked()) >= 2 })
	for i, err := range invoked()[:2] {
		var fe *runner.FunctionError
		if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
			t.Fatalf("invocation %d: %v, want the function's timeout", i+1, err)
		}
	}
	if n := apitest.QueueCounts(t, sq, url); n[0]+n[1]+n[2] != 1 {
		t.Fatalf("queue (visible, in flight, delayed) %v: the timed-out message was deleted", n)
	}
	// Purged, the queue gets one message that succeeds: it is deleted.
	if _, err := sq.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	before := len(invoked())
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(`{"mode":"ok"}`)}); err != nil {
		t.Fatal(err)
	}
	apitest.WaitFor(t, "an empty queue after a successful batch", 30*time.Second, func() bool {
		for _, err := range invoked()[before:] {
			if err == nil {
				return apitest.QueueCounts(t, sq, url) == [3]int{}
			}
		}
		return false
	})
}
