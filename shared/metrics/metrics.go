// Package metrics writes CloudWatch embedded metric format (EMF) records:
// one JSON object per line on the function's stdout, which CloudWatch Logs
// turns into metrics without a PutMetricData call (and without its IAM
// permission or its latency).
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// Namespace is the namespace of the project's own metrics (template.yaml's
// alarms name it).
const Namespace = "CporClaims"

// EMF writes embedded-metric records. Dimensions are the same on every
// record (e.g. Stage), so an alarm on one metric and those dimensions sees
// them all.
type EMF struct {
	W          io.Writer
	Dimensions map[string]string
	Clock      func() time.Time

	mu sync.Mutex
}

// New writes to stdout, as Lambda's log capture expects EMF.
func New(dimensions map[string]string) *EMF {
	return &EMF{W: os.Stdout, Dimensions: dimensions, Clock: time.Now}
}

// Count records value of a Count metric, with properties (searchable in
// CloudWatch Logs Insights, not dimensions: a claim id must not become a
// metric of its own).
func (e *EMF) Count(name string, value int, properties map[string]string) error {
	if e == nil {
		return nil
	}
	dims := make([]string, 0, len(e.Dimensions))
	rec := map[string]any{}
	for k, v := range properties {
		rec[k] = v
	}
	for k, v := range e.Dimensions {
		dims = append(dims, k)
		rec[k] = v
	}
	sort.Strings(dims)
	clock := e.Clock
	if clock == nil {
		clock = time.Now
	}
	rec[name] = value
	rec["_aws"] = map[string]any{
		"Timestamp": clock().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
		}},
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.W.Write(append(line, '\n'))
	return err
}
