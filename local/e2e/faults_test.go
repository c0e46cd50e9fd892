package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

func scheduled(at time.Time) map[string]any {
	return map[string]any{"version": "0", "id": "test", "detail-type": "Scheduled Event", "source": "aws.scheduler",
		"time": at.UTC().Format(time.RFC3339), "detail": map[string]any{}}
}

// A submit whose SendMessage fails leaves the claim Submitted; the
// scheduled run queues its job again once overdue, and it is validated.
func TestSubmitSurvivesAFailedSendMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	broken, err := apitest.StartRunner(ctx, "sqsdown", map[string]map[string]string{
		"SubmitFunction": {"QUEUE_URL": rt.Resources().QueueURL + "-does-not-exist"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	defer apitest.Use(broken)()

	u := apitest.NewUser(t, "sqs-down", true)
	id := apitest.Submitted(t, &u) // 202 although the job was not queued
	time.Sleep(2 * time.Second)
	if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t); c["status"] != "Submitted" {
		t.Fatalf("validated without a job? %v", c["status"])
	}
	// Not overdue yet: nothing to re-queue.
	if res := apitest.Invoke(t, broken.URL(), "FinalizeFunction", scheduled(time.Now())); res["requeued"].(float64) != 0 {
		t.Fatalf("re-queued too early: %v", res)
	}
	res := apitest.Invoke(t, broken.URL(), "FinalizeFunction", scheduled(time.Now().Add(11*time.Minute)))
	if res["requeued"].(float64) != 1 {
		t.Fatalf("finalize: %v", res)
	}
	apitest.WaitStatus(t, &u, id, "PendingCustomer")
	hist := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any)
	var actions []string
	for _, e := range hist {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "created,evidence_added,submitted,customer_notified" {
		t.Fatalf("history %s", got)
	}
}
