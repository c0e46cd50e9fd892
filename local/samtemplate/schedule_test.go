package samtemplate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/shared/finalize"
)

// EventBridge Scheduler sends the schedule's Input verbatim (no EventBridge
// envelope). The template's Input carries the firing time; finalize reads
// it; the runner plays the same Input; the sample event is that Input.
func TestScheduleInputCarriesTheTime(t *testing.T) {
	tm, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var input string
	for _, f := range tm.Functions() {
		if f.Schedule != nil {
			if f.ID != "FinalizeFunction" || input != "" {
				t.Fatalf("schedule on %s", f.ID)
			}
			input = f.Schedule.Input
		}
	}
	if input != runner.FinalizeInput {
		t.Fatalf("template's Input %q, the runner plays %q", input, runner.FinalizeInput)
	}
	at := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	arn := "arn:aws:scheduler:us-east-1:123456789012:schedule/default/cpor-claims-dev-finalize"
	var ev finalize.Event
	if err := json.Unmarshal(runner.SchedulerInput(input, at, arn, "d32c5kddcf5bb8c3"), &ev); err != nil {
		t.Fatalf("the Input as AWS sends it is not a finalize event: %v", err)
	}
	if !ev.Now().Equal(at) || ev.ScheduleARN != arn || ev.ExecutionID == "" {
		t.Fatalf("decoded %+v, want now %s", ev, at)
	}
	var played finalize.Event
	if err := json.Unmarshal(runner.ScheduledEvent(at, "us-east-1", arn), &played); err != nil || !played.Now().Equal(at) || played.ExecutionID == "" {
		t.Fatalf("the runner's scheduled event: %+v %v", played, err)
	}
	// The envelope's time still counts (the runner's invocation endpoint).
	var env finalize.Event
	if err := json.Unmarshal([]byte(`{"version":"0","detail-type":"Scheduled Event","source":"aws.scheduler","time":"2026-12-03T08:00:00Z","detail":{}}`), &env); err != nil || !env.Now().Equal(at) {
		t.Fatalf("an EventBridge envelope: %+v %v", env, err)
	}
	// The sample is exactly what the Input becomes: same keys, a time.
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "finalize-schedule.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample, shape map[string]any
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(runner.SchedulerInput(input, at, arn, "x"), &shape)
	for k := range shape {
		if _, ok := sample[k]; !ok {
			t.Errorf("events/finalize-schedule.json lacks %q", k)
		}
	}
	for k := range sample {
		if _, ok := shape[k]; !ok {
			t.Errorf("events/finalize-schedule.json has %q, which EventBridge Scheduler does not send", k)
		}
	}
}
