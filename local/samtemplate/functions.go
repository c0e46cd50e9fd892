package samtemplate

import (
	"sort"
	"strconv"
	"strings"
)

// Function is an AWS::Serverless::Function with Globals merged in.
type Function struct {
	ID          string
	CodeURI     string
	Timeout     int // seconds
	MemorySize  int
	Environment map[string]any // unresolved values
	Routes      []Route
	Queue       *QueueEvent
	Schedule    *ScheduleEvent
	Stream      *StreamEvent
}

// StreamEvent is an AWS::Lambda::EventSourceMapping reading a DynamoDB
// table's stream (EventSourceArn: !GetAtt <table>.StreamArn).
type StreamEvent struct {
	ID                    string // the mapping's logical id
	Table                 string // logical id
	StartingPosition      string // TRIM_HORIZON or LATEST
	BatchSize             int
	BatchingWindow        int
	ReportBatchItemFailed bool
	Bisect                bool
	MaximumRetryAttempts  int    // -1: until the record expires
	OnFailure             string // logical id of the on-failure destination queue, if any
}

// Route is an HttpApi event.
type Route struct {
	Method string
	Path   string
	Auth   bool // false when Auth.Authorizer is NONE
}

// Key is the API Gateway route key "METHOD /path".
func (r Route) Key() string { return r.Method + " " + r.Path }

// QueueEvent is an SQS event source: the function's SQS event, or an
// AWS::Lambda::EventSourceMapping naming the function.
type QueueEvent struct {
	Queue                 string // logical id
	BatchSize             int
	BatchingWindow        int // MaximumBatchingWindowInSeconds
	ReportBatchItemFailed bool
}

// ScheduleEvent is a ScheduleV2 event.
type ScheduleEvent struct {
	Expression string
	Name       any
	// Input is what EventBridge Scheduler sends the function, verbatim but
	// for its context attributes (<aws.scheduler.scheduled-time>, ...).
	Input string
}

// Functions returns every function, sorted by logical id.
func (t *Template) Functions() []Function {
	gf, _ := t.Globals["Function"].(map[string]any)
	var out []Function
	for _, id := range t.OfType("AWS::Serverless::Function") {
		p := t.Resources[id].Properties
		f := Function{ID: id, CodeURI: scalar(p["CodeUri"]), Environment: map[string]any{}}
		f.Timeout = intOr(p["Timeout"], intOr(gf["Timeout"], 3))
		f.MemorySize = intOr(p["MemorySize"], intOr(gf["MemorySize"], 128))
		for _, src := range []map[string]any{gf, p} {
			env, _ := src["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			for k, v := range vars {
				f.Environment[k] = v
			}
		}
		evs, _ := p["Events"].(map[string]any)
		names := make([]string, 0, len(evs))
		for n := range evs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ev, _ := evs[n].(map[string]any)
			props, _ := ev["Properties"].(map[string]any)
			switch scalar(ev["Type"]) {
			case "HttpApi":
				auth := true
				if a, ok := props["Auth"].(map[string]any); ok && scalar(a["Authorizer"]) == "NONE" {
					auth = false
				}
				f.Routes = append(f.Routes, Route{Method: strings.ToUpper(scalar(props["Method"])), Path: scalar(props["Path"]), Auth: auth})
			case "SQS":
				f.Queue = queueEvent(props, props["Queue"])
			case "ScheduleV2", "Schedule":
				f.Schedule = &ScheduleEvent{Expression: scalar(props["ScheduleExpression"]), Name: props["Name"], Input: scalar(props["Input"])}
			}
		}
		for _, esm := range t.OfType("AWS::Lambda::EventSourceMapping") {
			props := t.Resources[esm].Properties
			if ref, _ := props["FunctionName"].(map[string]any); scalar(ref["Ref"]) == id {
				if st := streamEvent(esm, props); st != nil {
					f.Stream = st
					continue
				}
				f.Queue = queueEvent(props, props["EventSourceArn"])
			}
		}
		out = append(out, f)
	}
	return out
}

func queueEvent(props map[string]any, arn any) *QueueEvent {
	q := &QueueEvent{BatchSize: intOr(props["BatchSize"], 10), BatchingWindow: intOr(props["MaximumBatchingWindowInSeconds"], 0)}
	if g, ok := arn.(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
		q.Queue = scalar(g[0])
	}
	if types, ok := props["FunctionResponseTypes"].([]any); ok {
		for _, ty := range types {
			q.ReportBatchItemFailed = q.ReportBatchItemFailed || scalar(ty) == "ReportBatchItemFailures"
		}
	}
	return q
}

func streamEvent(id string, props map[string]any) *StreamEvent {
	g, ok := props["EventSourceArn"].(map[string]any)["Fn::GetAtt"].([]any)
	if !ok || len(g) != 2 || scalar(g[1]) != "StreamArn" {
		return nil
	}
	st := &StreamEvent{ID: id, Table: scalar(g[0]), StartingPosition: scalar(props["StartingPosition"]),
		BatchSize: intOr(props["BatchSize"], 100), BatchingWindow: intOr(props["MaximumBatchingWindowInSeconds"], 0),
		Bisect: scalar(props["BisectBatchOnFunctionError"]) == "true", MaximumRetryAttempts: intOr(props["MaximumRetryAttempts"], -1)}
	if types, ok := props["FunctionResponseTypes"].([]any); ok {
		for _, ty := range types {
			st.ReportBatchItemFailed = st.ReportBatchItemFailed || scalar(ty) == "ReportBatchItemFailures"
		}
	}
	dest, _ := props["DestinationConfig"].(map[string]any)
	onf, _ := dest["OnFailure"].(map[string]any)
	if g, ok := onf["Destination"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
		st.OnFailure = scalar(g[0])
	}
	return st
}

// Routes returns every HttpApi route of every function.
func (t *Template) Routes() map[string]string {
	out := map[string]string{}
	for _, f := range t.Functions() {
		for _, r := range f.Routes {
			out[r.Key()] = f.ID
		}
	}
	return out
}

func intOr(v any, def int) int {
	switch x := v.(type) {
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	case int:
		return x
	}
	return def
}

// Grants reports whether function id's role (Role: !GetAtt <role>.Arn)
// has a statement allowing action.
func (t *Template) Grants(id, action string) bool {
	role, _ := t.Resources[id].Properties["Role"].(map[string]any)
	g, ok := role["Fn::GetAtt"].([]any)
	if !ok || len(g) != 2 {
		return false
	}
	for _, p := range list(t.Resources[scalar(g[0])].Properties["Policies"]) {
		doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
		for _, st := range list(doc["Statement"]) {
			sm, _ := st.(map[string]any)
			if scalar(sm["Effect"]) != "Allow" {
				continue
			}
			actions := list(sm["Action"])
			if actions == nil {
				actions = []any{sm["Action"]}
			}
			for _, a := range actions {
				if scalar(a) == action {
					return true
				}
			}
		}
	}
	return false
}
