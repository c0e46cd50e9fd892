package samtemplate

import "strings"

// Table is an AWS::DynamoDB::Table.
type Table struct {
	ID           string
	Attributes   map[string]string // name -> S|N|B
	HashKey      string
	RangeKey     string
	Indexes      []Index
	TTLAttribute string
	StreamView   string // StreamSpecification.StreamViewType; empty: no stream
}

// Index is a global secondary index.
type Index struct {
	Name       string
	HashKey    string
	RangeKey   string
	Projection string
}

// Queue is an AWS::SQS::Queue.
type Queue struct {
	ID                string
	VisibilityTimeout int
	DeadLetterQueue   string // logical id, from RedrivePolicy
	MaxReceiveCount   int
}

// Bucket is an AWS::S3::Bucket.
type Bucket struct {
	ID   string
	CORS []CORSRule
	// Versioned: VersioningConfiguration Status Enabled.
	Versioned bool
	// QueueNotifications are its NotificationConfiguration's
	// QueueConfigurations.
	QueueNotifications []QueueNotification
}

// QueueNotification sends a bucket's events to a queue.
type QueueNotification struct {
	Event  string
	Queue  string // logical id (!GetAtt <Queue>.Arn)
	Prefix string // the S3Key filter's prefix rule, if any
	Suffix string // the S3Key filter's suffix rule, if any
}

// CORSRule is one bucket CORS rule (origins unresolved).
type CORSRule struct {
	Methods []string
	Origins []any
	Headers []string
	MaxAge  int
}

func keys(schema any) (hash, rng string) {
	list, _ := schema.([]any)
	for _, k := range list {
		km, _ := k.(map[string]any)
		switch scalar(km["KeyType"]) {
		case "HASH":
			hash = scalar(km["AttributeName"])
		case "RANGE":
			rng = scalar(km["AttributeName"])
		}
	}
	return hash, rng
}

// Tables returns the DynamoDB tables.
func (t *Template) Tables() []Table {
	var out []Table
	for _, id := range t.OfType("AWS::DynamoDB::Table") {
		p := t.Resources[id].Properties
		tb := Table{ID: id, Attributes: map[string]string{}}
		defs, _ := p["AttributeDefinitions"].([]any)
		for _, d := range defs {
			dm, _ := d.(map[string]any)
			tb.Attributes[scalar(dm["AttributeName"])] = scalar(dm["AttributeType"])
		}
		tb.HashKey, tb.RangeKey = keys(p["KeySchema"])
		gsis, _ := p["GlobalSecondaryIndexes"].([]any)
		for _, g := range gsis {
			gm, _ := g.(map[string]any)
			ix := Index{Name: scalar(gm["IndexName"])}
			ix.HashKey, ix.RangeKey = keys(gm["KeySchema"])
			proj, _ := gm["Projection"].(map[string]any)
			ix.Projection = scalar(proj["ProjectionType"])
			tb.Indexes = append(tb.Indexes, ix)
		}
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && scalar(ttl["Enabled"]) == "true" {
			tb.TTLAttribute = scalar(ttl["AttributeName"])
		}
		if ss, ok := p["StreamSpecification"].(map[string]any); ok {
			tb.StreamView = scalar(ss["StreamViewType"])
		}
		out = append(out, tb)
	}
	return out
}

// Queues returns the SQS queues, dead-letter queues first.
func (t *Template) Queues() []Queue {
	var dlqs, others []Queue
	for _, id := range t.OfType("AWS::SQS::Queue") {
		p := t.Resources[id].Properties
		q := Queue{ID: id, VisibilityTimeout: intOr(p["VisibilityTimeout"], 30)}
		if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
			if g, ok := rp["deadLetterTargetArn"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
				q.DeadLetterQueue = scalar(g[0])
			}
			q.MaxReceiveCount = intOr(rp["maxReceiveCount"], 5)
			others = append(others, q)
			continue
		}
		dlqs = append(dlqs, q)
	}
	return append(dlqs, others...)
}

// Buckets returns the S3 buckets.
func (t *Template) Buckets() []Bucket {
	var out []Bucket
	for _, id := range t.OfType("AWS::S3::Bucket") {
		p := t.Resources[id].Properties
		b := Bucket{ID: id}
		if v, ok := p["VersioningConfiguration"].(map[string]any); ok && scalar(v["Status"]) == "Enabled" {
			b.Versioned = true
		}
		if cors, ok := p["CorsConfiguration"].(map[string]any); ok {
			rules, _ := cors["CorsRules"].([]any)
			for _, r := range rules {
				rm, _ := r.(map[string]any)
				rule := CORSRule{MaxAge: intOr(rm["MaxAge"], 0)}
				for _, m := range list(rm["AllowedMethods"]) {
					rule.Methods = append(rule.Methods, scalar(m))
				}
				for _, h := range list(rm["AllowedHeaders"]) {
					rule.Headers = append(rule.Headers, scalar(h))
				}
				rule.Origins = list(rm["AllowedOrigins"])
				b.CORS = append(b.CORS, rule)
			}
		}
		b.QueueNotifications = queueNotifications(p["NotificationConfiguration"])
		out = append(out, b)
	}
	return out
}

func queueNotifications(nc any) []QueueNotification {
	ncm, _ := nc.(map[string]any)
	var out []QueueNotification
	for _, qc := range list(ncm["QueueConfigurations"]) {
		qm, _ := qc.(map[string]any)
		n := QueueNotification{Event: scalar(qm["Event"])}
		if g, ok := qm["Queue"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			n.Queue = scalar(g[0])
		}
		filter, _ := qm["Filter"].(map[string]any)
		key, _ := filter["S3Key"].(map[string]any)
		for _, r := range list(key["Rules"]) {
			rm, _ := r.(map[string]any)
			switch strings.ToLower(scalar(rm["Name"])) {
			case "prefix":
				n.Prefix = scalar(rm["Value"])
			case "suffix":
				n.Suffix = scalar(rm["Value"])
			}
		}
		out = append(out, n)
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// Bus is an AWS::Events::EventBus.
type Bus struct {
	ID   string
	Name any // unresolved
}

// Rule is an AWS::Events::Rule on a bus of the template, with its SQS
// targets.
type Rule struct {
	ID      string
	Bus     string // logical id of the bus (EventBusName: !Ref <bus>)
	Pattern any    // EventPattern
	Targets []RuleTarget
	Enabled bool
}

// RuleTarget is a rule's target: a queue of the template.
type RuleTarget struct {
	ID    string
	Queue string // logical id (Arn: !GetAtt <queue>.Arn)
}

// Buses returns the EventBridge buses.
func (t *Template) Buses() []Bus {
	var out []Bus
	for _, id := range t.OfType("AWS::Events::EventBus") {
		out = append(out, Bus{ID: id, Name: t.Resources[id].Properties["Name"]})
	}
	return out
}

// Rules returns the EventBridge rules.
func (t *Template) Rules() []Rule {
	var out []Rule
	for _, id := range t.OfType("AWS::Events::Rule") {
		p := t.Resources[id].Properties
		r := Rule{ID: id, Pattern: p["EventPattern"], Enabled: scalar(p["State"]) != "DISABLED"}
		bus, _ := p["EventBusName"].(map[string]any)
		r.Bus = scalar(bus["Ref"])
		if g, ok := bus["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			r.Bus = scalar(g[0])
		}
		for _, tg := range list(p["Targets"]) {
			tm, _ := tg.(map[string]any)
			target := RuleTarget{ID: scalar(tm["Id"])}
			if g, ok := tm["Arn"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
				target.Queue = scalar(g[0])
			}
			r.Targets = append(r.Targets, target)
		}
		out = append(out, r)
	}
	return out
}
