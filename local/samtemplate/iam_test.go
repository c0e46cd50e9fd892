package samtemplate

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Each function's role grants exactly what its code reaches (reach_test.go),
// its own log group and X-Ray: an action the code no longer uses, or one it
// started to use, fails here, and so does a resource, a key prefix or an
// index that drifted.
//
// The expected policy is derived, per function, from:
//   - the AWS SDK operations its code calls, mapped to their IAM actions
//     (a DynamoDB transaction by the kind of items it builds);
//   - the single table's partitions it names (store's key prefixes), for a
//     dynamodb:LeadingKeys condition, and the indexes its queries name;
//   - the S3 keys it builds (evidence.Key: evidence/*, the PoE template's
//     key), read with ListBucket on those prefixes so that S3 answers 404
//     for a missing object (403 without it);
//   - the queue, bucket, table and sender its environment names;
//   - its SQS event source (the mapping reads the queue with its role);
//   - its log group (LoggingConfig.LogGroup: CreateLogStream and
//     PutLogEvents there only) and its tracing (Tracing: Active: the X-Ray
//     writes Lambda makes, on "*", X-Ray having no resource-level
//     permissions).
//
// The grants are read from the function's explicit AWS::IAM::Role (its
// Role: !GetAtt <role>.Arn), whose inline policies are its only permissions.
func TestPoliciesAreWhatTheCodeUses(t *testing.T) {
	tm := load(t)
	reach := reachAll(t)
	for _, p := range policyDiffs(tm, reach) {
		t.Error(p)
	}

	// The comparison itself fails on a grant too many or too few.
	mutate := func(edit func(st []any) []any) []string {
		m := load(t)
		role, err := roleOf(m, "SubmitFunction")
		if err != nil {
			t.Fatal(err)
		}
		pol := list(m.Resources[role].Properties["Policies"])[0].(map[string]any)
		doc := pol["PolicyDocument"].(map[string]any)
		doc["Statement"] = edit(list(doc["Statement"]))
		return policyDiffs(m, reach)
	}
	extra := mutate(func(st []any) []any {
		return append(st, map[string]any{"Effect": "Allow", "Action": "dynamodb:DeleteItem", "Resource": map[string]any{"Fn::GetAtt": []any{"ClaimsTable", "Arn"}}})
	})
	if len(extra) != 1 || !strings.Contains(extra[0], "does not use") || !strings.Contains(extra[0], "dynamodb:DeleteItem") {
		t.Errorf("an extra DeleteItem on SubmitFunction's role: %q", extra)
	}
	fewer := mutate(func(st []any) []any { return st[1:] })
	if len(fewer) != 1 || !strings.Contains(fewer[0], "does not grant") {
		t.Errorf("SubmitFunction's role without its first statement: %q", fewer)
	}
}

// Least privilege per key prefix, by the examples: the validation
// worker reads association units (ASSOC#) and cannot write them; the
// opt-out function reads tokens (TOKEN#) and cannot write them. Each holds
// both in what the code uses (reach) and in what the role grants, and a
// role widened on that prefix fails the comparison.
func TestLeastPrivilegePerKeyPrefix(t *testing.T) {
	tm := load(t)
	reach := reachAll(t)
	refs := policyRefs(tm)
	writes := []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem"}
	cases := []struct {
		fn, code, prefix string
		reads            []string
	}{
		{"ValidateFunction", "functions/validate/", "ASSOC#", []string{"BatchGetItem", "Query"}},
		{"OptOutFunction", "functions/optout/", "TOKEN#", []string{"GetItem"}},
	}
	for _, c := range cases {
		r := reach[c.code]
		if r == nil {
			t.Fatalf("no reach for %s", c.code)
		}
		role, err := roleOf(tm, c.fn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := declaredPolicy(tm, role, refs)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range c.reads {
			if r.Accesses[c.prefix+" "+a] == "" {
				t.Errorf("%s: its code no longer %s on %s: the example proves nothing", c.fn, a, c.prefix)
			}
			if !got[grant("dynamodb:"+a, "table:ClaimsTable", leadingKeys(c.prefix))] {
				t.Errorf("%s: %s on %s not granted", c.fn, a, c.prefix)
			}
		}
		for _, a := range writes {
			if why := r.Accesses[c.prefix+" "+a]; why != "" {
				t.Errorf("%s: its code writes %s with %s: %s", c.fn, c.prefix, a, why)
			}
			for _, g := range []string{grant("dynamodb:"+a, "table:ClaimsTable", leadingKeys(c.prefix)), grant("dynamodb:"+a, "table:ClaimsTable", "")} {
				if got[g] {
					t.Errorf("%s: %s grants %s", c.fn, role, g)
				}
			}
		}
		// The comparison refuses a write on that prefix, alone or in a
		// statement it shares with another prefix.
		for name, st := range map[string]map[string]any{
			"its own statement": {"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": map[string]any{"Fn::GetAtt": []any{"ClaimsTable", "Arn"}},
				"Condition": map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{c.prefix + "*"}}}},
			"shared with CLAIM#": {"Effect": "Allow", "Action": []any{"dynamodb:GetItem", "dynamodb:PutItem"}, "Resource": map[string]any{"Fn::GetAtt": []any{"ClaimsTable", "Arn"}},
				"Condition": map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"CLAIM#*", c.prefix + "*"}}}},
		} {
			m := load(t)
			pol := list(m.Resources[role].Properties["Policies"])[0].(map[string]any)
			doc := pol["PolicyDocument"].(map[string]any)
			doc["Statement"] = append(list(doc["Statement"]), st)
			diffs := strings.Join(policyDiffs(m, reach), "\n")
			if !strings.Contains(diffs, c.fn+": "+role+" grants, the code does not use") || !strings.Contains(diffs, `LeadingKeys=["`+c.prefix+`*"]`) {
				t.Errorf("%s: a write on %s (%s) not reported: %q", c.fn, c.prefix, name, diffs)
			}
		}
	}
}

// policyDiffs compares each function's role with what its code reaches.
func policyDiffs(tm *Template, reach map[string]*Reach) []string {
	var out []string
	refs := policyRefs(tm)
	for _, f := range tm.Functions() {
		r, ok := reach[f.CodeURI]
		if !ok {
			out = append(out, fmt.Sprintf("%s: no function package at %s", f.ID, f.CodeURI))
			continue
		}
		want, why, err := expectedPolicy(tm, f, r)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", f.ID, err))
			continue
		}
		role, err := roleOf(tm, f.ID)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", f.ID, err))
			continue
		}
		got, err := declaredPolicy(tm, role, refs)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %s: %v", f.ID, role, err))
			continue
		}
		var missing, extra []string
		for g := range want {
			if !got[g] {
				missing = append(missing, g+"\n      ("+why[g]+")")
			}
		}
		for g := range got {
			if !want[g] {
				extra = append(extra, g)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("%s: the code needs, %s does not grant:\n    %s", f.ID, role, strings.Join(missing, "\n    ")))
		}
		if len(extra) > 0 {
			out = append(out, fmt.Sprintf("%s: %s grants, the code does not use:\n    %s", f.ID, role, strings.Join(extra, "\n    ")))
		}
	}
	return out
}

// No function role may grant logs:* or a logs action on "*" (what SAM's
// AWSLambdaBasicExecutionRole would), nor name another function's log
// group; no action is a wildcard, and "*" is a resource only for X-Ray.
func TestRolesGrantOnlyTheirOwnLogGroup(t *testing.T) {
	tm := load(t)
	if p := roleProblems(tm); len(p) > 0 {
		t.Fatalf("\n  %s", strings.Join(p, "\n  "))
	}
	// The check catches each way back to broad logs access.
	cases := map[string]func(m *Template){
		"logs:* on its group": func(m *Template) {
			addStatement(m, "CreateFunctionRole", "logs:*", map[string]any{"Fn::GetAtt": []any{"CreateFunctionLogs", "Arn"}})
		},
		"a logs action on *": func(m *Template) { addStatement(m, "CreateFunctionRole", "logs:PutLogEvents", "*") },
		"CreateLogGroup": func(m *Template) {
			addStatement(m, "CreateFunctionRole", "logs:CreateLogGroup", map[string]any{"Fn::GetAtt": []any{"CreateFunctionLogs", "Arn"}})
		},
		"another function's group": func(m *Template) {
			addStatement(m, "CreateFunctionRole", "logs:PutLogEvents", map[string]any{"Fn::GetAtt": []any{"SubmitFunctionLogs", "Arn"}})
		},
		"every /aws/lambda group": func(m *Template) {
			addStatement(m, "CreateFunctionRole", "logs:PutLogEvents", map[string]any{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/*"})
		},
		"s3 on *": func(m *Template) { addStatement(m, "CreateFunctionRole", "s3:GetObject", "*") },
		"the managed basic execution policy": func(m *Template) {
			m.Resources["CreateFunctionRole"].Properties["ManagedPolicyArns"] = []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
		},
		"SAM's generated role": func(m *Template) {
			p := m.Resources["CreateFunction"].Properties
			delete(p, "Role")
			p["Policies"] = []any{map[string]any{"Statement": []any{}}}
		},
		"a shared role": func(m *Template) {
			m.Resources["SubmitFunction"].Properties["Role"] = map[string]any{"Fn::GetAtt": []any{"CreateFunctionRole", "Arn"}}
		},
		"no LoggingConfig": func(m *Template) { delete(m.Resources["CreateFunction"].Properties, "LoggingConfig") },
		"a permissions boundary": func(m *Template) {
			m.Resources["CreateFunctionRole"].Properties["PermissionsBoundary"] = "arn:aws:iam::123456789012:policy/b"
		},
	}
	for name, edit := range cases {
		m := load(t)
		edit(m)
		if len(roleProblems(m)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

func addStatement(m *Template, role, action string, resource any) {
	pol := list(m.Resources[role].Properties["Policies"])[0].(map[string]any)
	doc := pol["PolicyDocument"].(map[string]any)
	doc["Statement"] = append(list(doc["Statement"]), map[string]any{"Effect": "Allow", "Action": action, "Resource": resource})
}

// roleProblems checks every function's role: its own (no other function's),
// trusted by Lambda alone, inline policies only, no wildcard action, "*"
// only for X-Ray, logs only on the function's own log group, which keeps a
// retention.
func roleProblems(tm *Template) []string {
	var out []string
	refs := policyRefs(tm)
	users, groups := map[string][]string{}, map[string][]string{}
	for _, f := range tm.Functions() {
		role, err := roleOf(tm, f.ID)
		if err != nil {
			out = append(out, f.ID+": "+err.Error())
			continue
		}
		users[role] = append(users[role], f.ID)
		lg, err := logGroupOf(tm, f.ID)
		if err != nil {
			out = append(out, f.ID+": "+err.Error())
			continue
		}
		groups[lg] = append(groups[lg], f.ID)
		if _, ok := tm.Resources[lg].Properties["RetentionInDays"]; !ok {
			out = append(out, lg+": no RetentionInDays")
		}
		props := tm.Resources[role].Properties
		for _, k := range []string{"ManagedPolicyArns", "PermissionsBoundary"} {
			if _, ok := props[k]; ok {
				out = append(out, fmt.Sprintf("%s: %s (inline policies only, no boundary)", role, k))
			}
		}
		if err := lambdaTrust(props["AssumeRolePolicyDocument"]); err != nil {
			out = append(out, role+": "+err.Error())
		}
		got, err := declaredPolicy(tm, role, refs)
		if err != nil {
			out = append(out, role+": "+err.Error())
			continue
		}
		for g := range got {
			action, rest, _ := strings.Cut(g, " ")
			resource, _, _ := strings.Cut(rest, " if ")
			switch {
			case strings.Contains(action, "*"):
				out = append(out, fmt.Sprintf("%s: a wildcard action: %s", role, g))
			case strings.HasPrefix(action, "logs:"):
				if action != "logs:CreateLogStream" && action != "logs:PutLogEvents" {
					out = append(out, fmt.Sprintf("%s: %s (the template creates the log group; only CreateLogStream and PutLogEvents)", role, g))
				}
				if resource != "loggroup:"+lg {
					out = append(out, fmt.Sprintf("%s: %s is not %s's own log group %s", role, g, f.ID, lg))
				}
			case resource == "*" && !strings.HasPrefix(action, "xray:"):
				out = append(out, fmt.Sprintf("%s: %s on \"*\" (only X-Ray, without resource-level permissions, may)", role, g))
			}
		}
	}
	for role, fns := range users {
		if len(fns) != 1 {
			out = append(out, fmt.Sprintf("%s: the role of %v: one role per function", role, fns))
		}
	}
	for lg, fns := range groups {
		if len(fns) != 1 {
			out = append(out, fmt.Sprintf("%s: the log group of %v: one per function", lg, fns))
		}
	}
	sort.Strings(out)
	return out
}

// roleOf is the logical id of the AWS::IAM::Role a function runs with. A
// function without Role (Policies instead) would get a role SAM generates,
// with AWSLambdaBasicExecutionRole: logs on "*".
func roleOf(tm *Template, fn string) (string, error) {
	gf, _ := tm.Globals["Function"].(map[string]any)
	for _, k := range []string{"Role", "Policies", "PermissionsBoundary"} {
		if _, ok := gf[k]; ok {
			return "", fmt.Errorf("Globals.Function.%s: each function names its own role", k)
		}
	}
	p := tm.Resources[fn].Properties
	if _, ok := p["Policies"]; ok {
		return "", fmt.Errorf("Policies on the function: SAM would generate its role, with AWSLambdaBasicExecutionRole (logs on \"*\"); grant in its explicit role")
	}
	g, _ := p["Role"].(map[string]any)["Fn::GetAtt"].([]any)
	if len(g) != 2 || scalar(g[1]) != "Arn" || tm.Resources[scalar(g[0])].Type != "AWS::IAM::Role" {
		return "", fmt.Errorf("Role %v: want !GetAtt <an AWS::IAM::Role of the template>.Arn", p["Role"])
	}
	return scalar(g[0]), nil
}

// logGroupOf is the log group a function writes to: LoggingConfig.LogGroup,
// a !Ref to a log group of the template.
func logGroupOf(tm *Template, fn string) (string, error) {
	lc, _ := tm.Resources[fn].Properties["LoggingConfig"].(map[string]any)
	ref, _ := lc["LogGroup"].(map[string]any)
	id := scalar(ref["Ref"])
	if tm.Resources[id].Type != "AWS::Logs::LogGroup" {
		return "", fmt.Errorf("LoggingConfig.LogGroup %v: want !Ref <an AWS::Logs::LogGroup of the template>", lc["LogGroup"])
	}
	return id, nil
}

// tracing is a function's Tracing, from Globals unless it sets its own.
func tracing(tm *Template, fn string) string {
	if v, ok := tm.Resources[fn].Properties["Tracing"]; ok {
		return scalar(v)
	}
	gf, _ := tm.Globals["Function"].(map[string]any)
	return scalar(gf["Tracing"])
}

// lambdaTrust accepts only "lambda.amazonaws.com may sts:AssumeRole".
func lambdaTrust(v any) error {
	doc, _ := v.(map[string]any)
	st := list(doc["Statement"])
	if len(st) != 1 {
		return fmt.Errorf("AssumeRolePolicyDocument: want one statement, got %v", v)
	}
	sm, _ := st[0].(map[string]any)
	pr, _ := sm["Principal"].(map[string]any)
	svc, act := listOrOne(pr["Service"]), listOrOne(sm["Action"])
	if scalar(sm["Effect"]) != "Allow" || len(pr) != 1 || len(svc) != 1 || scalar(svc[0]) != "lambda.amazonaws.com" ||
		len(act) != 1 || scalar(act[0]) != "sts:AssumeRole" || sm["Condition"] != nil {
		return fmt.Errorf("AssumeRolePolicyDocument: want lambda.amazonaws.com allowed sts:AssumeRole, got %v", v)
	}
	return nil
}

// The IAM action of each SDK operation the functions may call. An operation
// missing here fails the test: map it (and grant it) deliberately. DynamoDB
// operations are granted per request and partition (dynamoGrants), these
// entries only say that the analysis knows them.
var iamActions = map[string][]string{
	"dynamodb:GetItem":            {"dynamodb:GetItem"},
	"dynamodb:BatchGetItem":       {"dynamodb:BatchGetItem"},
	"dynamodb:PutItem":            {"dynamodb:PutItem"},
	"dynamodb:UpdateItem":         {"dynamodb:UpdateItem"},
	"dynamodb:DeleteItem":         {"dynamodb:DeleteItem"},
	"dynamodb:BatchWriteItem":     {"dynamodb:BatchWriteItem"},
	"dynamodb:Query":              {"dynamodb:Query"},
	"dynamodb:TransactWriteItems": nil, // authorized item by item
	"s3:HeadObject":               {"s3:GetObject"},
	"s3:GetObject":                {"s3:GetObject"},
	"s3:PutObject":                {"s3:PutObject"},
	"s3:DeleteObject":             {"s3:DeleteObject"},
	"s3:DeleteObjects":            {"s3:DeleteObject"},
	"sqs:SendMessage":             {"sqs:SendMessage"},
	"ses:SendEmail":               {"ses:SendEmail"},
	"eventbridge:PutEvents":       {"events:PutEvents"},
	"kms:Encrypt":                 {"kms:Encrypt"},
	"kms:Decrypt":                 {"kms:Decrypt"},
	"sqs:ChangeMessageVisibility": {"sqs:ChangeMessageVisibility"},
}

const (
	evidenceKeyFunc = module + "/shared/evidence.Key"
	importKeyFunc   = module + "/shared/imports.Key"
	// versionReadFunc reads one version of an evidence object (GetObject
	// with VersionId), which IAM authorizes as s3:GetObjectVersion.
	versionReadFunc  = module + "/shared/evidence.readVersion"
	templateKeyConst = "evidence.TemplateKey"
)

// A grant is "action resource" plus " if condition" when the statement has one.
func grant(action, resource, cond string) string {
	g := action + " " + resource
	if cond != "" {
		g += " if " + cond
	}
	return g
}

func expectedPolicy(tm *Template, f Function, r *Reach) (map[string]bool, map[string]string, error) {
	want, why := map[string]bool{}, map[string]string{}
	add := func(g, reason string) {
		want[g] = true
		if why[g] == "" {
			why[g] = reason
		}
	}
	envRef := func(name string) (string, error) {
		m, _ := f.Environment[name].(map[string]any)
		if ref := scalar(m["Ref"]); ref != "" {
			return ref, nil
		}
		return "", fmt.Errorf("the code calls AWS but %s does not !Ref a resource or parameter", name)
	}
	var prefixes []string
	if _, ok := r.Funcs[evidenceKeyFunc]; ok {
		prefixes = append(prefixes, "evidence/*")
	}
	if k, ok := r.Consts[templateKeyConst]; ok {
		prefixes = append(prefixes, k)
	}
	if _, ok := r.Funcs[importKeyFunc]; ok {
		prefixes = append(prefixes, "imports/*")
	}
	sort.Strings(prefixes)
	ops := make([]string, 0, len(r.Ops))
	for op := range r.Ops {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		actions, ok := iamActions[op]
		if !ok {
			return nil, nil, fmt.Errorf("the code calls %s, which iamActions does not map\n    (%s)", op, r.Why(op))
		}
		service, _, _ := strings.Cut(op, ":")
		for _, a := range actions {
			reason := r.Why(op)
			switch service {
			case "dynamodb":
				// Granted per request below, on the partitions its keys
				// name (partitions_test.go).
			case "s3":
				bucket, err := envRef("EVIDENCE_BUCKET")
				if err != nil {
					return nil, nil, err
				}
				if len(prefixes) == 0 {
					return nil, nil, fmt.Errorf("%s on no known key (evidence.Key, evidence.TemplateKey, imports.Key)", op)
				}
				for _, p := range prefixes {
					add(grant(a, "bucket:"+bucket+"/"+p, ""), reason)
				}
				if _, ok := r.Funcs[versionReadFunc]; ok && op == "s3:GetObject" {
					add(grant("s3:GetObjectVersion", "bucket:"+bucket+"/evidence/*", ""), "reads the evidence version submit recorded: "+r.Why(op))
				}
				if a == "s3:GetObject" {
					quoted := make([]string, len(prefixes))
					for i, p := range prefixes {
						quoted[i] = `"` + p + `"`
					}
					add(grant("s3:ListBucket", "bucket:"+bucket, "StringLike s3:prefix=["+strings.Join(quoted, " ")+"]"),
						"a missing object must answer 404, not 403: "+reason)
				}
			case "sqs":
				q, err := envRef("QUEUE_URL")
				if err != nil {
					return nil, nil, err
				}
				add(grant(a, "queue:"+q, ""), reason)
			case "ses":
				if _, err := envRef("SENDER_EMAIL"); err != nil {
					return nil, nil, err
				}
				cond := "StringEquals ses:FromAddress=[SENDER]"
				add(grant(a, "ses:identity/SENDER", cond), reason)
				add(grant(a, "ses:identity/SENDER-DOMAIN", cond), reason+" (a domain identity)")
				if set, err := envRef("CONFIGURATION_SET"); err == nil {
					add(grant(a, "ses:configuration-set/"+set, cond), reason+" (with its configuration set)")
				}
			case "kms":
				k, err := envRef("WEBHOOK_KEY_ID")
				if err != nil {
					return nil, nil, err
				}
				add(grant(a, "key:"+k, ""), reason)
			case "eventbridge":
				bus, err := envRef("EVENT_BUS_NAME")
				if err != nil {
					return nil, nil, err
				}
				add(grant(a, "bus:"+bus, ""), reason)
			}
		}
	}
	if err := dynamoGrants(r, envRef, add); err != nil {
		return nil, nil, err
	}
	if q := f.Queue; q != nil {
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			add(grant(a, "queue:"+q.Queue, ""), "its SQS event source reads the queue")
		}
	}
	if st := f.Stream; st != nil {
		for _, a := range []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"} {
			add(grant(a, "stream:"+st.Table, ""), "its stream event source ("+st.ID+") reads the table's stream")
		}
		if st.OnFailure != "" {
			add(grant("sqs:SendMessage", "queue:"+st.OnFailure, ""), "its stream event source ("+st.ID+") sends what it gives up on to its on-failure destination")
		}
	}
	lg, err := logGroupOf(tm, f.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range []string{"logs:CreateLogStream", "logs:PutLogEvents"} {
		add(grant(a, "loggroup:"+lg, ""), "Lambda writes its output to its own log group (LoggingConfig), which the template creates")
	}
	if tracing(tm, f.ID) == "Active" {
		// What Lambda's active tracing sends (the code has no X-Ray SDK:
		// no sampling rules to read). X-Ray has no resource-level
		// permissions, so "*" is the narrowest resource.
		for _, a := range []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"} {
			add(grant(a, "*", ""), "Tracing: Active")
		}
	}
	return want, why, nil
}

// policyRefs resolve the template's references to the names grants use.
func policyRefs(tm *Template) map[string]string {
	refs := map[string]string{"AWS::Partition": "aws", "AWS::Region": "REGION", "AWS::AccountId": "ACCOUNT", "SenderEmail": "SENDER@SENDER-DOMAIN"}
	for id, r := range tm.Resources {
		switch r.Type {
		case "AWS::DynamoDB::Table":
			refs[id+".Arn"] = "table:" + id
			refs[id+".StreamArn"] = "stream:" + id
		case "AWS::Events::EventBus":
			refs[id+".Arn"] = "bus:" + id
		case "AWS::KMS::Key":
			refs[id+".Arn"] = "key:" + id
		case "AWS::S3::Bucket":
			refs[id+".Arn"] = "bucket:" + id
		case "AWS::SQS::Queue":
			refs[id+".Arn"] = "queue:" + id
		case "AWS::Logs::LogGroup":
			refs[id+".Arn"] = "loggroup:" + id
		case "AWS::SES::ConfigurationSet":
			refs[id] = id
		}
	}
	return refs
}

// declaredPolicy reads a role's inline policy statements as grants.
func declaredPolicy(tm *Template, role string, refs map[string]string) (map[string]bool, error) {
	got := map[string]bool{}
	pols := list(tm.Resources[role].Properties["Policies"])
	if len(pols) == 0 {
		return nil, fmt.Errorf("no inline Policies")
	}
	for _, p := range pols {
		pm, _ := p.(map[string]any)
		doc, ok := pm["PolicyDocument"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy %v: only inline PolicyDocument policies are checked", p)
		}
		for _, st := range list(doc["Statement"]) {
			sm, _ := st.(map[string]any)
			for k := range sm {
				switch k {
				case "Sid", "Effect", "Action", "Resource", "Condition":
				default:
					return nil, fmt.Errorf("statement %v: %s is not checked (Action and Resource only)", sm, k)
				}
			}
			if scalar(sm["Effect"]) != "Allow" {
				return nil, fmt.Errorf("statement %v: only Allow statements are expected", sm)
			}
			cond, err := condition(sm["Condition"], refs)
			if err != nil {
				return nil, err
			}
			// A statement on several partition prefixes grants each of
			// its actions on each of them.
			conds := []string{cond}
			if rest, ok := strings.CutPrefix(cond, "ForAllValues:StringLike dynamodb:LeadingKeys=["); ok {
				conds = nil
				for _, v := range strings.Fields(strings.TrimSuffix(rest, "]")) {
					conds = append(conds, "ForAllValues:StringLike dynamodb:LeadingKeys=["+v+"]")
				}
			}
			for _, res := range listOrOne(sm["Resource"]) {
				rs, err := Resolve(res, refs)
				if err != nil {
					return nil, fmt.Errorf("resource %v: %w", res, err)
				}
				rs = strings.TrimPrefix(rs, "arn:aws:ses:REGION:ACCOUNT:")
				if strings.HasPrefix(rs, "configuration-set/") {
					rs = "ses:" + rs
				}
				if strings.HasPrefix(rs, "identity/") {
					rs = "ses:" + strings.ReplaceAll(rs, "SENDER@SENDER-DOMAIN", "SENDER")
				}
				for _, a := range listOrOne(sm["Action"]) {
					for _, c := range conds {
						got[grant(scalar(a), rs, c)] = true
					}
				}
			}
		}
	}
	return got, nil
}

func condition(v any, refs map[string]string) (string, error) {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return "", nil
	}
	if len(m) != 1 {
		return "", fmt.Errorf("condition %v: one operator expected", v)
	}
	for op, kv := range m {
		km, _ := kv.(map[string]any)
		if len(km) != 1 {
			return "", fmt.Errorf("condition %v: one key expected", v)
		}
		for k, vals := range km {
			var out []string
			for _, x := range listOrOne(vals) {
				s, err := Resolve(x, refs)
				if err != nil {
					return "", err
				}
				if s == "SENDER@SENDER-DOMAIN" {
					s = "SENDER"
				} else {
					s = `"` + s + `"`
				}
				out = append(out, s)
			}
			sort.Strings(out)
			return op + " " + k + "=[" + strings.Join(out, " ") + "]", nil
		}
	}
	return "", nil
}

func listOrOne(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// leadingKeys is the condition that confines a table grant to one partition
// prefix.
func leadingKeys(prefix string) string {
	return `ForAllValues:StringLike dynamodb:LeadingKeys=["` + prefix + `*"]`
}

// dynamoGrants adds, for each DynamoDB request the code sends (r.Accesses),
// its action on the table confined to the request's partition prefix, or
// on the index it queries. dynamodb:LeadingKeys is the table's partition
// key (pk), so a table grant carries it; an index grant is on the index's
// own ARN, which holds only that index's keys (PARTNER#, DUE#, HOLDER#).
func dynamoGrants(r *Reach, envRef func(string) (string, error), add func(g, reason string)) error {
	if len(r.Unplaced) > 0 {
		return fmt.Errorf("DynamoDB requests on no known partition:\n    %s", strings.Join(r.Unplaced, "\n    "))
	}
	// Every operation sent has requests placed: none escapes the grants.
	sent := map[string]bool{}
	for k := range r.Accesses {
		_, action, _ := strings.Cut(k, " ")
		sent[action] = true
	}
	for op := range r.Ops {
		name, ok := strings.CutPrefix(op, "dynamodb:")
		if !ok {
			continue
		}
		placed := sent[name]
		if name == "TransactWriteItems" {
			placed = sent["PutItem"] || sent["UpdateItem"] || sent["DeleteItem"] || sent["ConditionCheckItem"]
		}
		if !placed {
			return fmt.Errorf("the code sends %s, but builds no request of it on a known partition (%s)", op, r.Why(op))
		}
	}
	if len(r.Accesses) == 0 {
		return nil
	}
	table, err := envRef("TABLE_NAME")
	if err != nil {
		return err
	}
	for k, why := range r.Accesses {
		where, action, _ := strings.Cut(k, " ")
		if ix, ok := strings.CutPrefix(where, "index:"); ok {
			add(grant("dynamodb:"+action, "table:"+table+"/index/"+ix, ""), why)
			continue
		}
		add(grant("dynamodb:"+action, "table:"+table, leadingKeys(where)), why)
	}
	return nil
}
