package runner

import (
	"encoding/json"
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

// ScheduledEvent is the event EventBridge Scheduler sends a function: its
// "time" is the firing time (finalize takes "now" from it).
func ScheduledEvent(at time.Time, region, scheduleARN string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": "Scheduled Event", "source": "aws.scheduler",
		"account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": region,
		"resources": []string{scheduleARN}, "detail": map[string]any{},
	})
	return b
}
