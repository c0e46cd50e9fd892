package stack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// EventsTapRule is the local-only catch-all rule on the claims bus that
// feeds the events tap queue (GET /_local/events): it is not in
// template.yaml and never deployed.
const EventsTapRule = "local-events-tap"

// provisionEvents creates the template's buses (LocalStack core serves
// EventBridge) and their rules with SQS targets, then, on the first bus, a
// local-only catch-all rule to a tap queue, so that the runner sees every
// event as EventBridge delivers it.
func provisionEvents(ctx context.Context, cfg aws.Config, t *samtemplate.Template, prefix string, res *Resources) error {
	buses := t.Buses()
	if len(buses) == 0 {
		return nil
	}
	eb := eventbridge.NewFromConfig(cfg)
	refs := res.Refs
	for _, b := range buses {
		name := prefix + "-" + b.ID
		if b.Name != nil {
			n, err := samtemplate.Resolve(b.Name, refs)
			if err != nil {
				return fmt.Errorf("bus %s: name: %w", b.ID, err)
			}
			name = n
		}
		out, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &name})
		if err != nil {
			return fmt.Errorf("bus %s: %w", b.ID, err)
		}
		refs[b.ID] = name
		refs[b.ID+".Name"] = name
		refs[b.ID+".Arn"] = aws.ToString(out.EventBusArn)
	}
	for _, r := range t.Rules() {
		bus, ok := refs[r.Bus]
		if !ok {
			return fmt.Errorf("rule %s: bus %q not declared", r.ID, r.Bus)
		}
		pattern, err := resolvePattern(r.Pattern, refs)
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.ID, err)
		}
		var targets []ebtypes.Target
		for _, tg := range r.Targets {
			arn, ok := refs[tg.Queue+".Arn"]
			if tg.Queue == "" || !ok {
				return fmt.Errorf("rule %s: target %s is not a queue of the template (only SQS targets are played locally)", r.ID, tg.ID)
			}
			targets = append(targets, ebtypes.Target{Id: aws.String(tg.ID), Arn: aws.String(arn)})
		}
		if err := putRule(ctx, eb, prefix+"-"+r.ID, bus, pattern, r.Enabled, targets); err != nil {
			return fmt.Errorf("rule %s: %w", r.ID, err)
		}
		refs[r.ID] = prefix + "-" + r.ID
	}
	// The tap: every event of the first bus (the claims bus), as delivered.
	q := awsclient.SQS(cfg)
	name := prefix + "-LocalEventsTap"
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		return fmt.Errorf("events tap queue: %w", err)
	}
	ga, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("events tap queue: %w", err)
	}
	res.EventsTapURL = aws.ToString(out.QueueUrl)
	all := `{"account":["000000000000"]}`
	return putRule(ctx, eb, prefix+"-"+EventsTapRule, refs[buses[0].ID], all, true,
		[]ebtypes.Target{{Id: aws.String("tap"), Arn: aws.String(ga.Attributes["QueueArn"])}})
}

func putRule(ctx context.Context, eb *eventbridge.Client, name, bus, pattern string, enabled bool, targets []ebtypes.Target) error {
	state := ebtypes.RuleStateEnabled
	if !enabled {
		state = ebtypes.RuleStateDisabled
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventBusName: &bus, EventPattern: &pattern, State: state}); err != nil {
		return err
	}
	if len(targets) == 0 {
		return nil
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, EventBusName: &bus, Targets: targets})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("targets: %s", aws.ToString(out.FailedEntries[0].ErrorMessage))
	}
	return nil
}

// provisionKeys creates the template's KMS keys (LocalStack core serves
// KMS).
func provisionKeys(ctx context.Context, cfg aws.Config, t *samtemplate.Template, res *Resources) error {
	ids := t.OfType("AWS::KMS::Key")
	if len(ids) == 0 {
		return nil
	}
	k := kms.NewFromConfig(cfg)
	for _, id := range ids {
		out, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("local " + id)})
		if err != nil {
			return fmt.Errorf("key %s: %w", id, err)
		}
		res.Refs[id] = aws.ToString(out.KeyMetadata.KeyId)
		res.Refs[id+".Arn"] = aws.ToString(out.KeyMetadata.Arn)
	}
	return nil
}

// resolvePattern is a rule's EventPattern as JSON, its !Ref / !Sub values
// resolved.
func resolvePattern(p any, refs map[string]string) (string, error) {
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 1 {
				for k := range x {
					if k == "Ref" || k == "Fn::Sub" || k == "Fn::GetAtt" {
						return samtemplate.Resolve(x, refs)
					}
				}
			}
			out := map[string]any{}
			for k, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				out[k] = r
			}
			return out, nil
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				out[i] = r
			}
			return out, nil
		}
		return v, nil
	}
	if s, ok := p.(string); ok {
		return s, nil
	}
	r, err := walk(p)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(r)
	return string(b), err
}
