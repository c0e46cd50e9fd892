package runner

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// RateInterval reads an EventBridge "rate(N unit)" expression.
func RateInterval(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "rate(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return 0, fmt.Errorf("schedule %q: only rate(...) expressions are played locally", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 2 {
		return 0, fmt.Errorf("schedule %q: want rate(N unit)", expr)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("schedule %q: bad count", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(fields[1], "s")]
	if unit == 0 {
		return 0, fmt.Errorf("schedule %q: bad unit", expr)
	}
	return time.Duration(n) * unit, nil
}

// FinalizeInput is template.yaml's FinalizeSchedule Input (a test in
// local/samtemplate keeps the two equal).
const FinalizeInput = `{"scheduledTime":"<aws.scheduler.scheduled-time>","scheduleArn":"<aws.scheduler.schedule-arn>","executionId":"<aws.scheduler.execution-id>"}`

// SchedulerInput is what EventBridge Scheduler sends its target for a
// schedule's Input: the Input verbatim (no EventBridge envelope), its
// context attributes replaced.
func SchedulerInput(input string, at time.Time, scheduleARN, executionID string) []byte {
	return []byte(strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.schedule-arn>", scheduleARN,
		"<aws.scheduler.execution-id>", executionID,
		"<aws.scheduler.attempt-number>", "1",
	).Replace(input))
}

// ScheduledEvent is the event EventBridge Scheduler sends FinalizeFunction
// at a firing time: FinalizeInput, whose scheduledTime is the firing time
// (finalize takes "now" from it). The region is part of scheduleARN.
func ScheduledEvent(at time.Time, _ string, scheduleARN string) []byte {
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	return SchedulerInput(FinalizeInput, at, scheduleARN, id)
}
