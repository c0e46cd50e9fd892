package samtemplate

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Each function's policy is exactly what its code reaches (reach_test.go):
// an action the code no longer uses, or one it started to use, fails here,
// and so does a resource, a key prefix or an index that drifted.
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
//   - its SQS event source (the mapping reads the queue with its role).
func TestPoliciesAreWhatTheCodeUses(t *testing.T) {
	tm := load(t)
	reach := reachAll(t)
	refs := policyRefs(tm)
	for _, f := range tm.Functions() {
		r, ok := reach[f.CodeURI]
		if !ok {
			t.Errorf("%s: no function package at %s", f.ID, f.CodeURI)
			continue
		}
		want, why, err := expectedPolicy(tm, f, r)
		if err != nil {
			t.Errorf("%s: %v", f.ID, err)
			continue
		}
		got, err := declaredPolicy(tm, f.ID, refs)
		if err != nil {
			t.Errorf("%s: %v", f.ID, err)
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
			t.Errorf("%s: the code needs, the template does not grant:\n    %s", f.ID, strings.Join(missing, "\n    "))
		}
		if len(extra) > 0 {
			t.Errorf("%s: the template grants, the code does not use:\n    %s", f.ID, strings.Join(extra, "\n    "))
		}
	}
}

// The IAM action of each SDK operation the functions may call. An operation
// missing here fails the test: map it (and grant it) deliberately.
var iamActions = map[string][]string{
	"dynamodb:GetItem":            {"dynamodb:GetItem"},
	"dynamodb:BatchGetItem":       {"dynamodb:BatchGetItem"},
	"dynamodb:PutItem":            {"dynamodb:PutItem"},
	"dynamodb:UpdateItem":         {"dynamodb:UpdateItem"},
	"dynamodb:DeleteItem":         {"dynamodb:DeleteItem"},
	"dynamodb:BatchWriteItem":     {"dynamodb:BatchWriteItem"},
	"dynamodb:Query":              {"dynamodb:Query"},
	"dynamodb:TransactWriteItems": nil, // authorized item by item (TxItems)
	"s3:HeadObject":               {"s3:GetObject"},
	"s3:GetObject":                {"s3:GetObject"},
	"s3:PutObject":                {"s3:PutObject"},
	"s3:DeleteObject":             {"s3:DeleteObject"},
	"s3:DeleteObjects":            {"s3:DeleteObject"},
	"sqs:SendMessage":             {"sqs:SendMessage"},
	"ses:SendEmail":               {"ses:SendEmail"},
}

// tablePartitions are store's constants that start a table partition key:
// a function naming one reads or writes that partition.
var tablePartitions = map[string]bool{"store.claimPrefix": true, "store.assocPrefix": true, "store.tokenPrefix": true, "store.idempPrefix": true}

const (
	evidenceKeyFunc  = module + "/shared/evidence.Key"
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
	var partitions []string
	for c, v := range r.Consts {
		if tablePartitions[c] {
			partitions = append(partitions, `"`+v+`*"`)
		}
	}
	sort.Strings(partitions)
	leading := "ForAllValues:StringLike dynamodb:LeadingKeys=[" + strings.Join(partitions, " ") + "]"
	var prefixes []string
	if _, ok := r.Funcs[evidenceKeyFunc]; ok {
		prefixes = append(prefixes, "evidence/*")
	}
	if k, ok := r.Consts[templateKeyConst]; ok {
		prefixes = append(prefixes, k)
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
				table, err := envRef("TABLE_NAME")
				if err != nil {
					return nil, nil, err
				}
				if a == "dynamodb:Query" {
					if r.TableQuery {
						add(grant(a, "table:"+table, leading), reason)
					}
					for ix := range r.Indexes {
						add(grant(a, "table:"+table+"/index/"+ix, ""), reason)
					}
					continue
				}
				add(grant(a, "table:"+table, leading), reason)
			case "s3":
				bucket, err := envRef("EVIDENCE_BUCKET")
				if err != nil {
					return nil, nil, err
				}
				if len(prefixes) == 0 {
					return nil, nil, fmt.Errorf("%s on no known key (evidence.Key, evidence.TemplateKey)", op)
				}
				for _, p := range prefixes {
					add(grant(a, "bucket:"+bucket+"/"+p, ""), reason)
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
			}
		}
	}
	if len(r.TxItems) > 0 {
		table, err := envRef("TABLE_NAME")
		if err != nil {
			return nil, nil, err
		}
		for item := range r.TxItems {
			add(grant("dynamodb:"+item, "table:"+table, leading), "TransactWriteItems with "+item+": "+r.Why("dynamodb:TransactWriteItems"))
		}
	}
	if q := f.Queue; q != nil {
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			add(grant(a, "queue:"+q.Queue, ""), "its SQS event source reads the queue")
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
		case "AWS::S3::Bucket":
			refs[id+".Arn"] = "bucket:" + id
		case "AWS::SQS::Queue":
			refs[id+".Arn"] = "queue:" + id
		}
	}
	return refs
}

// declaredPolicy reads a function's inline policy statements as grants.
func declaredPolicy(tm *Template, id string, refs map[string]string) (map[string]bool, error) {
	got := map[string]bool{}
	pols, _ := tm.Resources[id].Properties["Policies"].([]any)
	for _, p := range pols {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy %v: only inline Statement policies are checked", p)
		}
		for _, st := range list(pm["Statement"]) {
			sm, _ := st.(map[string]any)
			if scalar(sm["Effect"]) != "Allow" {
				return nil, fmt.Errorf("statement %v: only Allow statements are expected", sm)
			}
			cond, err := condition(sm["Condition"], refs)
			if err != nil {
				return nil, err
			}
			for _, res := range listOrOne(sm["Resource"]) {
				rs, err := Resolve(res, refs)
				if err != nil {
					return nil, fmt.Errorf("resource %v: %w", res, err)
				}
				rs = strings.TrimPrefix(rs, "arn:aws:ses:REGION:ACCOUNT:")
				if strings.HasPrefix(rs, "identity/") {
					rs = "ses:" + strings.ReplaceAll(rs, "SENDER@SENDER-DOMAIN", "SENDER")
				}
				for _, a := range listOrOne(sm["Action"]) {
					got[grant(scalar(a), rs, cond)] = true
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
