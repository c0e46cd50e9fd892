package samtemplate

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func load(t *testing.T) *Template {
	t.Helper()
	tm, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// walk visits every intrinsic function in v.
func walk(v any, visit func(kind, name string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Ref":
				visit("Ref", scalar(e))
			case "Fn::GetAtt":
				if l, ok := e.([]any); ok && len(l) == 2 {
					visit("GetAtt", scalar(l[0]))
				}
			case "Fn::Sub":
				if s, ok := e.(string); ok {
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						visit("Sub", name)
					}
				}
			}
			walk(e, visit)
		}
	case []any:
		for _, e := range x {
			walk(e, visit)
		}
	}
}

// Every reference names a resource, a parameter or a pseudo parameter:
// `sam validate --lint` was measured to miss a !Ref to a missing resource.
func TestEveryReferenceResolves(t *testing.T) {
	tm := load(t)
	known := map[string]bool{"AWS::Region": true, "AWS::AccountId": true, "AWS::Partition": true, "AWS::StackName": true, "AWS::URLSuffix": true, "AWS::NoValue": true}
	for id := range tm.Resources {
		known[id] = true
	}
	for p := range tm.Parameters {
		known[p] = true
	}
	var unknown []string
	count := 0
	for id, r := range tm.Resources {
		walk(map[string]any{"Properties": r.Properties}, func(kind, name string) {
			count++
			if !known[name] {
				unknown = append(unknown, id+": "+kind+" "+name)
			}
		})
	}
	walk(tm.Globals, func(kind, name string) {
		count++
		if !known[name] {
			unknown = append(unknown, "Globals: "+kind+" "+name)
		}
	})
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Fatalf("unresolved references:\n%s", strings.Join(unknown, "\n"))
	}
	if count < 40 {
		t.Fatalf("only %d references seen: the walk is broken", count)
	}
}

// Every route's authorizer is NONE or declared on its API (lint misses an
// undefined authorizer too).
func TestAuthorizersAreDeclared(t *testing.T) {
	tm := load(t)
	declared := map[string]bool{"NONE": true}
	for _, id := range tm.OfType("AWS::Serverless::HttpApi") {
		auth, _ := tm.Resources[id].Properties["Auth"].(map[string]any)
		azs, _ := auth["Authorizers"].(map[string]any)
		for name := range azs {
			declared[name] = true
		}
		if d := scalar(auth["DefaultAuthorizer"]); d == "" || !declared[d] {
			t.Fatalf("%s: default authorizer %q not declared", id, d)
		}
	}
	for _, id := range tm.OfType("AWS::Serverless::Function") {
		evs, _ := tm.Resources[id].Properties["Events"].(map[string]any)
		for name, ev := range evs {
			props, _ := ev.(map[string]any)["Properties"].(map[string]any)
			if a, ok := props["Auth"].(map[string]any); ok && !declared[scalar(a["Authorizer"])] {
				t.Errorf("%s.%s: authorizer %q not declared", id, name, scalar(a["Authorizer"]))
			}
		}
	}
}

func TestTemplateShape(t *testing.T) {
	tm := load(t)
	fns := tm.Functions()
	if len(fns) != 12 { // v1's six, import, bounce, ..., and PublishFunction, WebhooksFunction, DeliverFunction
		t.Fatalf("%d functions", len(fns))
	}
	public := 0
	for _, f := range fns {
		if f.Timeout < 1 || f.MemorySize < 128 || f.Environment["TABLE_NAME"] == nil {
			t.Errorf("%s: %+v", f.ID, f)
		}
		if meta := tm.Resources[f.ID].Metadata; scalar(meta["BuildMethod"]) != "go1.x" {
			t.Errorf("%s: BuildMethod %v", f.ID, meta["BuildMethod"])
		}
		for _, r := range f.Routes {
			if !r.Auth {
				public++
				if !strings.HasPrefix(r.Path, "/opt-out/") {
					t.Errorf("%s is public", r.Key())
				}
			}
		}
	}
	if public != 2 {
		t.Errorf("%d public routes, want the two opt-out routes", public)
	}
	tables := tm.Tables()
	if len(tables) != 1 || len(tables[0].Indexes) != 3 || tables[0].TTLAttribute != "expiresAt" {
		t.Fatalf("tables %+v", tables)
	}
	qs := tm.Queues()
	byID := map[string]Queue{}
	for _, q := range qs {
		byID[q.ID] = q
	}
	if im := byID["ImportQueue"]; im.DeadLetterQueue != "ImportDLQ" || im.MaxReceiveCount != 5 {
		t.Fatalf("import queue %+v", im)
	}
	if v, b := byID["ValidationQueue"], byID["BounceQueue"]; len(qs) != 10 || byID["PublishFailures"].ID == "" || byID["DeliveryQueue"].DeadLetterQueue != "DeliveryDLQ" || b.DeadLetterQueue != "BounceDLQ" || v.DeadLetterQueue != "ValidationDLQ" || v.MaxReceiveCount != 5 || byID["FinalizeScheduleDLQ"].ID == "" {
		t.Fatalf("queues %+v", qs)
	}
	// The worker's queue hides a message longer than the worker may run:
	// at least 6 x its timeout plus the batching window (AWS's advice for
	// an SQS event source).
	workers := 0
	for _, f := range fns {
		if f.Queue != nil {
			workers++
			q, ok := byID[f.Queue.Queue]
			if !ok {
				t.Fatalf("%s reads an undeclared queue %q", f.ID, f.Queue.Queue)
			}
			if min := 6*f.Timeout + f.Queue.BatchingWindow; q.VisibilityTimeout < min {
				t.Errorf("%s: visibility %ds < 6 x the worker's %ds + its %ds batching window", q.ID, q.VisibilityTimeout, f.Timeout, f.Queue.BatchingWindow)
			}
			if f.ID == "ImportFunction" {
				// One file per invocation (up to 1,000 rows).
				if !f.Queue.ReportBatchItemFailed || f.Queue.BatchSize != 1 {
					t.Errorf("%s: one file per invocation, failures reported: %+v", f.ID, f.Queue)
				}
				continue
			}
			if !f.Queue.ReportBatchItemFailed || f.Queue.BatchSize != 10 || f.Queue.BatchingWindow < 1 {
				t.Errorf("%s: the worker must report batch item failures: %+v", f.ID, f.Queue)
			}
		}
	}
	// The outbox: the table's stream feeds PublishFunction, failures
	// reported per record, bisected, bounded, with an on-failure queue.
	streams := 0
	for _, f := range fns {
		if st := f.Stream; st != nil {
			streams++
			if f.ID != "PublishFunction" || st.Table != "ClaimsTable" || !st.ReportBatchItemFailed || !st.Bisect ||
				st.MaximumRetryAttempts < 0 || st.StartingPosition != "TRIM_HORIZON" || byID[st.OnFailure].ID == "" {
				t.Errorf("%s: stream event source %+v", f.ID, st)
			}
		}
	}
	if streams != 1 || tables[0].StreamView == "" {
		t.Errorf("%d functions read the table's stream (view %q), want PublishFunction", streams, tables[0].StreamView)
	}
	if workers != 4 {
		t.Errorf("%d functions read a queue, want the validation worker, the import function, the bounce worker and the webhook deliverer", workers)
	}
	if v, err := Resolve(map[string]any{"Fn::Sub": "${A}-${B.Arn}"}, map[string]string{"A": "x", "B.Arn": "y"}); err != nil || v != "x-y" {
		t.Fatalf("sub: %q %v", v, err)
	}
	if _, err := Resolve(map[string]any{"Ref": "Missing"}, nil); err == nil {
		t.Fatal("a missing ref resolved")
	}
}

// samconfig.toml has the three environments, lints on validate, and never
// caches builds (SAM hashes only CodeUri: shared/ changes would be missed).
func TestSAMConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, env := range []string{"default", "dev", "prod"} {
		for _, cmd := range []string{"global", "build", "validate", "deploy"} {
			if !strings.Contains(s, "["+env+"."+cmd+".parameters]") {
				t.Errorf("samconfig.toml lacks [%s.%s.parameters]", env, cmd)
			}
		}
	}
	for _, line := range strings.Split(s, "\n") {
		l := strings.ReplaceAll(strings.TrimSpace(line), " ", "")
		if strings.HasPrefix(l, "cached=") {
			t.Errorf("cached builds leave stale binaries: %q", line)
		}
	}
	if strings.Count(s, "lint = true") != 3 || !strings.Contains(s, `parameter_overrides = "Stage=prod`) {
		t.Error("validate must lint in every environment; prod deploys Stage=prod")
	}
}

// The emulator endpoints exist only where the emulators are.
func TestEmulatorEndpointsOnlyWhenSet(t *testing.T) {
	tm := load(t)
	env := tm.Functions()[0].Environment
	refs := map[string]string{"EmulatorEndpointUrl": "", "EmulatorDynamoDbEndpointUrl": ""}
	if _, err := tm.ResolveIn(env["AWS_ENDPOINT_URL"], refs); err != ErrNoValue {
		t.Fatalf("in AWS the variable must be absent: %v", err)
	}
	refs["EmulatorEndpointUrl"], refs["EmulatorDynamoDbEndpointUrl"] = "http://172.17.0.1:4566", "http://172.17.0.1:8000"
	if v, err := tm.ResolveIn(env["AWS_ENDPOINT_URL_DYNAMODB"], refs); err != nil || v != "http://172.17.0.1:8000" {
		t.Fatalf("with emulators: %q %v", v, err)
	}
}
