package stack

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// provisionNotices creates the template's SNS topics and their
// subscriptions, and its SES configuration sets with their event
// destinations (the customer's notices report bounces and complaints
// through them), in that order, after the queues they deliver to.
func provisionNotices(ctx context.Context, cfg aws.Config, t *samtemplate.Template, prefix string, refs map[string]string) error {
	snsc := sns.NewFromConfig(cfg)
	sesc := awsclient.SES(cfg)
	for _, id := range sorted(t.OfType("AWS::SNS::Topic")) {
		out, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(prefix + "-" + id)})
		if err != nil {
			return fmt.Errorf("topic %s: %w", id, err)
		}
		refs[id] = aws.ToString(out.TopicArn)
		refs[id+".TopicArn"] = refs[id]
	}
	for _, id := range sorted(t.OfType("AWS::SNS::Subscription")) {
		p := t.Resources[id].Properties
		topic, err := samtemplate.Resolve(p["TopicArn"], refs)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", id, err)
		}
		endpoint, err := samtemplate.Resolve(p["Endpoint"], refs)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", id, err)
		}
		proto, _ := p["Protocol"].(string)
		if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: &proto, Endpoint: &endpoint}); err != nil {
			return fmt.Errorf("subscription %s: %w", id, err)
		}
	}
	for _, id := range sorted(t.OfType("AWS::SES::ConfigurationSet")) {
		name := prefix + "-" + id
		if _, err := sesc.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &sestypes.ConfigurationSet{Name: &name}}); err != nil {
			return fmt.Errorf("configuration set %s: %w", id, err)
		}
		refs[id] = name
	}
	for _, id := range sorted(t.OfType("AWS::SES::ConfigurationSetEventDestination")) {
		p := t.Resources[id].Properties
		set, err := samtemplate.Resolve(p["ConfigurationSetName"], refs)
		if err != nil {
			return fmt.Errorf("event destination %s: %w", id, err)
		}
		d, _ := p["EventDestination"].(map[string]any)
		// Prefixed: LocalStack keeps destination names account-wide, and
		// several stacks (runners) share one LocalStack.
		dest := sestypes.EventDestination{Name: aws.String(prefix + "-" + id), Enabled: true}
		if name, ok := d["Name"].(string); ok {
			dest.Name = aws.String(prefix + "-" + name)
		}
		types, _ := d["MatchingEventTypes"].([]any)
		for _, et := range types {
			s, _ := et.(string)
			dest.MatchingEventTypes = append(dest.MatchingEventTypes, sestypes.EventType(s))
		}
		if sd, ok := d["SnsDestination"].(map[string]any); ok {
			topic, err := samtemplate.Resolve(sd["TopicARN"], refs)
			if err != nil {
				return fmt.Errorf("event destination %s: %w", id, err)
			}
			dest.SNSDestination = &sestypes.SNSDestination{TopicARN: &topic}
		}
		if _, err := sesc.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: &set, EventDestination: &dest}); err != nil {
			return fmt.Errorf("event destination %s: %w", id, err)
		}
	}
	return nil
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}
