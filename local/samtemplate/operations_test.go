package samtemplate

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/metrics"
)

// Every dead-letter queue has an alarm, notifying the optional alarm topic,
// and an output.
func TestDeadLetterQueuesAreWatched(t *testing.T) {
	tm := load(t)
	dlqs := map[string]bool{}
	for _, q := range tm.Queues() {
		if q.DeadLetterQueue != "" {
			dlqs[q.DeadLetterQueue] = true
		}
	}
	for _, id := range tm.OfType("AWS::Serverless::Function") {
		evs, _ := tm.Resources[id].Properties["Events"].(map[string]any)
		for name, ev := range evs {
			props, _ := ev.(map[string]any)["Properties"].(map[string]any)
			dl, _ := props["DeadLetterConfig"].(map[string]any)
			if dl == nil {
				continue
			}
			g, ok := dl["Arn"].(map[string]any)["Fn::GetAtt"].([]any)
			if !ok || len(g) != 2 {
				t.Errorf("%s.%s: the dead-letter queue must be declared in the template (Arn: !GetAtt <queue>.Arn), not generated", id, name)
				continue
			}
			dlqs[scalar(g[0])] = true
		}
	}
	if len(dlqs) != 5 {
		t.Fatalf("dead-letter queues %v, want the validation queue's, the schedule's, the import queue's, the bounce queue's and the webhook delivery queue's", dlqs)
	}
	alarmed := map[string]bool{}
	for _, id := range tm.OfType("AWS::CloudWatch::Alarm") {
		p := tm.Resources[id].Properties
		for _, d := range list(p["Dimensions"]) {
			dm, _ := d.(map[string]any)
			if g, ok := dm["Value"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 && scalar(g[1]) == "QueueName" {
				alarmed[scalar(g[0])] = true
			}
		}
		iff, _ := p["AlarmActions"].(map[string]any)["Fn::If"].([]any)
		if len(iff) != 3 || scalar(iff[0]) != "HasAlarmTopic" {
			t.Errorf("%s: AlarmActions must be !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue], got %v", id, p["AlarmActions"])
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	outputs := string(b[strings.Index(string(b), "\nOutputs:"):])
	for q := range dlqs {
		if !alarmed[q] {
			t.Errorf("dead-letter queue %s has no alarm", q)
		}
		if !strings.Contains(outputs, "!Ref "+q+"\n") {
			t.Errorf("dead-letter queue %s has no output", q)
		}
	}
	if tm.Parameters["AlarmTopicArn"] != "" || tm.Required["AlarmTopicArn"] {
		t.Error("the alarm topic is optional (default empty)")
	}
}

// The bucket refuses plain HTTP, and its lifecycle rules act on objects that
// exist: versions the Draft deletion and replaced uploads leave behind (no
// multipart rule: uploads are single-part presigned POSTs).
func TestEvidenceBucketPolicyAndLifecycle(t *testing.T) {
	tm := load(t)
	bucket := tm.Resources["EvidenceBucket"].Properties
	if v, _ := bucket["VersioningConfiguration"].(map[string]any); scalar(v["Status"]) != "Enabled" {
		t.Fatal("noncurrent-version rules need versioning enabled")
	}
	lc, _ := bucket["LifecycleConfiguration"].(map[string]any)
	rules := list(lc["Rules"])
	if len(rules) == 0 {
		t.Fatal("no lifecycle rules")
	}
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		if _, ok := rm["AbortIncompleteMultipartUpload"]; ok {
			t.Errorf("rule %v: no upload is multipart (presigned POST)", rm["Id"])
		}
		if scalar(rm["Status"]) != "Enabled" {
			t.Errorf("rule %v is not enabled", rm["Id"])
		}
	}
	tls := false
	for _, id := range tm.OfType("AWS::S3::BucketPolicy") {
		p := tm.Resources[id].Properties
		if ref, _ := p["Bucket"].(map[string]any); scalar(ref["Ref"]) != "EvidenceBucket" {
			continue
		}
		doc, _ := p["PolicyDocument"].(map[string]any)
		for _, st := range list(doc["Statement"]) {
			sm, _ := st.(map[string]any)
			c, _ := sm["Condition"].(map[string]any)
			b, _ := c["Bool"].(map[string]any)
			if scalar(sm["Effect"]) == "Deny" && scalar(sm["Action"]) == "s3:*" && scalar(b["aws:SecureTransport"]) == "false" && len(list(sm["Resource"])) == 2 {
				tls = true
			}
		}
	}
	if !tls {
		t.Error("EvidenceBucket needs a bucket policy denying s3:* on the bucket and its objects without TLS")
	}
}

// The parameters a deploy must give have no default and a pattern, and
// every one has a local value (samconfig.toml), the same for sam local
// invoke and start-api.
func TestDeployRequiredParameters(t *testing.T) {
	tm := load(t)
	want := []string{"JwtAudience", "JwtIssuer", "PublicBaseUrl", "SenderEmail", "UiOrigin"}
	var got []string
	for p := range tm.Required {
		got = append(got, p)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("parameters without default %v, want %v", got, want)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	invoke, err := SAMConfigOverrides(b, "default.local_invoke.parameters")
	if err != nil {
		t.Fatal(err)
	}
	startAPI, err := SAMConfigOverrides(b, "default.local_start_api.parameters")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		if invoke[p] == "" || invoke[p] != startAPI[p] || tm.Parameters[p] != invoke[p] {
			t.Errorf("%s: local values %q (invoke) %q (start-api), loaded %q", p, invoke[p], startAPI[p], tm.Parameters[p])
		}
	}
	for _, env := range []string{"dev", "prod"} {
		over, err := SAMConfigOverrides(b, env+".deploy.parameters")
		if err != nil {
			t.Fatal(err)
		}
		if over["Stage"] != env {
			t.Errorf("%s deploys Stage=%q", env, over["Stage"])
		}
		for _, p := range want {
			if over[p] != "" {
				t.Errorf("%s: %s belongs to the deployer (DEPLOY_PARAMS), not to samconfig.toml", env, p)
			}
		}
	}
}

// make deploy passes the environment's own overrides and the deployer's
// together, and refuses what would deploy placeholders.
func TestDeployOverrides(t *testing.T) {
	tm := load(t)
	cfg, err := os.ReadFile(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	real := []string{"JwtIssuer=https://login.microsoftonline.com/tenant/v2.0", "JwtAudience=api://cpor", "UiOrigin=https://partners.contoso.com",
		"SenderEmail=noreply@contoso.com", "PublicBaseUrl=https://claims.contoso.com"}
	out, err := DeployOverrides(tm, cfg, "prod", real)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ParseOverrides(out)
	if got["Stage"] != "prod" || got["LogRetentionDays"] != "365" || got["SenderEmail"] != "noreply@contoso.com" {
		t.Fatalf("prod overrides %q: the environment's own must stay", out)
	}
	if out, err := DeployOverrides(tm, cfg, "dev", append(real, "LogRetentionDays=7")); err != nil || !strings.Contains(out, "LogRetentionDays=7") || !strings.Contains(out, "Stage=dev") {
		t.Fatalf("the deployer's value wins on the same key: %q %v", out, err)
	}
	for name, args := range map[string][]string{
		"missing":     real[1:],
		"local value": append(append([]string(nil), real[1:]...), "JwtIssuer="+tm.Local["JwtIssuer"]),
		"other stage": append(append([]string(nil), real...), "Stage=dev"),
		"unknown":     append(append([]string(nil), real...), "Nope=1"),
	} {
		if _, err := DeployOverrides(tm, cfg, "prod", args); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Both SAM builds of the Makefile use the one build environment (static,
// -trimpath, lambda.norpc, stripped); checkbin verifies template-check's
// binaries, samlocal its own.
func TestMakefileBuilds(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `SAM_BUILD_ENV := CGO_ENABLED=0 GOFLAGS="-trimpath -tags=lambda.norpc '-ldflags=-s -w'"`) {
		t.Error("SAM_BUILD_ENV changed")
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "$(SAM) build") && !strings.Contains(line, "$(SAM_BUILD_ENV) $(SAM) build") {
			t.Errorf("a sam build without $(SAM_BUILD_ENV): %q", strings.TrimSpace(line))
		}
		if strings.Contains(line, "$(SAM) deploy") && !strings.Contains(line, `--parameter-overrides "$$params"`) {
			t.Errorf("sam deploy without the merged overrides: %q", strings.TrimSpace(line))
		}
	}
	for _, f := range load(t).Functions() {
		meta := load(t).Resources[f.ID].Metadata
		if bp, _ := meta["BuildProperties"].(map[string]any); scalar(bp["TrimGoPath"]) != "true" {
			t.Errorf("%s: Metadata.BuildProperties.TrimGoPath must be true (a plain sam build trims paths too)", f.ID)
		}
	}
}

// FinalizeFunction's failed decisions, which it counts itself in embedded
// metric format (namespace metrics.Namespace, dimension Stage), have an
// alarm on exactly that metric.
func TestFinalizeDecisionFailedAlarm(t *testing.T) {
	tm := load(t)
	p := tm.Resources["FinalizeDecisionFailedAlarm"].Properties
	if p == nil {
		t.Fatal("no FinalizeDecisionFailedAlarm")
	}
	if scalar(p["Namespace"]) != metrics.Namespace || scalar(p["MetricName"]) != finalize.MetricDecisionFailed {
		t.Errorf("alarm on %v/%v, want %s/%s", p["Namespace"], p["MetricName"], metrics.Namespace, finalize.MetricDecisionFailed)
	}
	dims := list(p["Dimensions"])
	if len(dims) != 1 {
		t.Fatalf("dimensions %v, want Stage only", dims)
	}
	d, _ := dims[0].(map[string]any)
	if scalar(d["Name"]) != "Stage" || scalar(d["Value"].(map[string]any)["Ref"]) != "Stage" {
		t.Errorf("dimension %v, want Stage = !Ref Stage", d)
	}
	if scalar(p["Statistic"]) != "Sum" || scalar(p["ComparisonOperator"]) != "GreaterThanThreshold" {
		t.Errorf("alarm %v", p)
	}
}
