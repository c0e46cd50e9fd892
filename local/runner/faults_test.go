package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func invoke(t *testing.T, url, function string, event any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(event)
	resp, err := http.Post(url+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke %s: %d %s", function, resp.StatusCode, body)
	}
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return out
}

func scheduled(at time.Time) map[string]any {
	return map[string]any{"version": "0", "id": "test", "detail-type": "Scheduled Event", "source": "aws.scheduler",
		"time": at.UTC().Format(time.RFC3339), "detail": map[string]any{}}
}

// A submit whose SendMessage fails leaves the claim Submitted; the
// scheduled run queues its job again once overdue, and it is validated.
func TestSubmitSurvivesAFailedSendMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	broken, err := startRunner(ctx, "sqsdown", map[string]map[string]string{
		"SubmitFunction": {"QUEUE_URL": rt.Resources().QueueURL + "-does-not-exist"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	saved := base
	base = broken.URL()
	defer func() { base = saved }()

	u := newUser(t, "sqs-down", true)
	id := submitted(t, &u) // 202 although the job was not queued
	time.Sleep(2 * time.Second)
	if c := expect(t, call(t, &u, "GET", "/claims/"+id, nil), 200).json(t); c["status"] != "Submitted" {
		t.Fatalf("validated without a job? %v", c["status"])
	}
	// Not overdue yet: nothing to re-queue.
	if res := invoke(t, broken.URL(), "FinalizeFunction", scheduled(time.Now())); res["requeued"].(float64) != 0 {
		t.Fatalf("re-queued too early: %v", res)
	}
	res := invoke(t, broken.URL(), "FinalizeFunction", scheduled(time.Now().Add(11*time.Minute)))
	if res["requeued"].(float64) != 1 {
		t.Fatalf("finalize: %v", res)
	}
	waitStatus(t, &u, id, "PendingCustomer")
	hist := expect(t, call(t, &u, "GET", "/claims/"+id+"/history", nil), 200).json(t)["items"].([]any)
	var actions []string
	for _, e := range hist {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "created,evidence_added,submitted,customer_notified" {
		t.Fatalf("history %s", got)
	}
}
