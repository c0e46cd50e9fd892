package samtemplate

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
)

// rawTemplate is template.yaml as plain maps (CloudFormation tags read as
// the package reads them).
func rawTemplate(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root, _ := convert(doc.Content[0]).(map[string]any)
	return root
}

// A deploy cannot go out with http: PublicBaseUrl and UiOrigin accept http
// only on the loopback (the local stage's values), and a Rules section
// refuses the local values outside the local stage.
func TestPublicURLsAreHTTPSOutsideLocal(t *testing.T) {
	root := rawTemplate(t)
	params := root["Parameters"].(map[string]any)
	for name, c := range map[string]struct{ ok, refused []string }{
		"PublicBaseUrl": {ok: []string{"https://claims.example.com", "https://api.example.com/prod", "http://127.0.0.1:3000", "http://127.0.0.1:41234"},
			refused: []string{"http://claims.example.com", "http://10.0.0.5", "ftp://claims.example.com", "https://claims.example.com/", "http://127.0.0.1.evil.example"}},
		"UiOrigin": {ok: []string{"https://partners.example.com", "http://localhost:5173"},
			refused: []string{"http://partners.example.com", "https://partners.example.com/app", "http://localhost.evil.example"}},
	} {
		p := params[name].(map[string]any)
		re, err := regexp.Compile(scalar(p["AllowedPattern"]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, v := range c.ok {
			if !re.MatchString(v) {
				t.Errorf("%s refuses %s", name, v)
			}
		}
		for _, v := range c.refused {
			if re.MatchString(v) {
				t.Errorf("%s accepts %s", name, v)
			}
		}
	}
	rule, _ := root["Rules"].(map[string]any)["HttpsOutsideLocal"].(map[string]any)
	if rule == nil || len(list(rule["Assertions"])) != 2 {
		t.Fatalf("Rules.HttpsOutsideLocal with one assertion per URL parameter: %v", root["Rules"])
	}
	cond, _ := rule["RuleCondition"].(map[string]any)["Fn::Not"].([]any)
	eq, _ := cond[0].(map[string]any)["Fn::Equals"].([]any)
	if len(eq) != 2 || scalar(eq[0].(map[string]any)["Ref"]) != "Stage" || scalar(eq[1]) != "local" {
		t.Fatalf("the rule must apply outside the local stage: %v", rule["RuleCondition"])
	}
}

// The customer's routes (no token) have throttling limits of their own,
// below the API's default, and their 429s raise an alarm.
func TestCustomerRoutesAreThrottledAndWatched(t *testing.T) {
	tm := load(t)
	api := tm.Resources["ClaimsApi"].Properties
	def := api["DefaultRouteSettings"].(map[string]any)
	routes, _ := api["RouteSettings"].(map[string]any)
	for _, key := range []string{"GET /opt-out/{token}", "POST /opt-out/{token}"} {
		rs, _ := routes[key].(map[string]any)
		if rs == nil {
			t.Fatalf("no RouteSettings for %s", key)
		}
		for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
			if n := intOr(rs[k], 0); n <= 0 || n >= intOr(def[k], 0) {
				t.Errorf("%s %s = %v, want a limit below the default %v", key, k, rs[k], def[k])
			}
		}
	}
	f := tm.Resources["CustomerRoutesThrottledMetric"]
	if f.Type != "AWS::Logs::MetricFilter" {
		t.Fatalf("no metric filter on the access log: %+v", f)
	}
	pattern := scalar(f.Properties["FilterPattern"])
	if !regexp.MustCompile(`\$\.status = "429"`).MatchString(pattern) || !regexp.MustCompile(`opt-out`).MatchString(pattern) {
		t.Fatalf("filter pattern %q", pattern)
	}
	mt := list(f.Properties["MetricTransformations"])[0].(map[string]any)
	a := tm.Resources["CustomerRoutesThrottledAlarm"]
	if a.Type != "AWS::CloudWatch::Alarm" || scalar(a.Properties["MetricName"]) != scalar(mt["MetricName"]) || a.Properties["AlarmActions"] == nil {
		t.Fatalf("alarm %+v on metric %v", a, mt)
	}
}
