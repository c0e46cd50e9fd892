// Package samtemplate reads template.yaml, the single source of truth of
// the local stack and runner: the table, queues and bucket to create, the
// functions with their environments, routes, queue and schedule.
package samtemplate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the parsed template: plain values, with CloudFormation short
// tags turned into their long forms ({"Ref": x}, {"Fn::GetAtt": [a, b]}, ...).
type Template struct {
	// Parameters are the values the local stack gives the parameters: the
	// template's defaults, overridden by the local values (Local).
	Parameters map[string]string
	Required   map[string]bool // parameters without a default: a deploy must give them
	Resources  map[string]Resource
	Globals    map[string]any
	Conditions map[string]any
	// Local are the parameter values of the local stack, the runner and
	// sam local: samconfig.toml's [default.local_invoke.parameters]
	// parameter_overrides, next to the template (Load). They give the
	// deploy-required parameters, which have no default, their local values.
	Local map[string]string
}

// Resource is one resource.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load parses a template file, and the local parameter values of the
// samconfig.toml beside it.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b)
	if err != nil {
		return nil, err
	}
	cfg, err := os.ReadFile(filepath.Join(filepath.Dir(path), "samconfig.toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	over, err := SAMConfigOverrides(cfg, "default.local_invoke.parameters")
	if err != nil {
		return nil, fmt.Errorf("samconfig.toml: %w", err)
	}
	t.Local = over
	for k, v := range over {
		t.Parameters[k] = v
	}
	return t, nil
}

// Values are the parameter values of the local stack: Parameters (defaults,
// then local values), then params.
func (t *Template) Values(params map[string]string) map[string]string {
	out := map[string]string{}
	for _, src := range []map[string]string{t.Parameters, params} {
		for k, v := range src {
			out[k] = v
		}
	}
	return out
}

// SAMConfigOverrides reads parameter_overrides ("Key=Value Key2=Value2",
// values without spaces, optionally in double quotes) from one section of a
// samconfig.toml. A section without the key gives an empty map.
func SAMConfigOverrides(toml []byte, section string) (map[string]string, error) {
	in := false
	for _, line := range strings.Split(string(toml), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			in = l == "["+section+"]"
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !in || !ok || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		v = strings.TrimSpace(v)
		uq, err := strconv.Unquote(v)
		if err != nil {
			return nil, fmt.Errorf("[%s] parameter_overrides: want one quoted string, got %s", section, v)
		}
		return ParseOverrides(uq)
	}
	return map[string]string{}, nil
}

// ParseOverrides reads "Key=Value Key2=Value2" (sam's --parameter-overrides
// shorthand; a value may be double-quoted, without spaces either way).
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Fields(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter override %q: want Key=Value", kv)
		}
		out[k] = strings.Trim(v, `"`)
	}
	return out, nil
}

// Parse parses template text.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("template: empty")
	}
	root, _ := convert(doc.Content[0]).(map[string]any)
	t := &Template{Parameters: map[string]string{}, Required: map[string]bool{}, Resources: map[string]Resource{}}
	params, _ := root["Parameters"].(map[string]any)
	for name, p := range params {
		pm, _ := p.(map[string]any)
		t.Parameters[name] = scalar(pm["Default"])
		if _, ok := pm["Default"]; !ok {
			t.Required[name] = true
		}
	}
	if g, ok := root["Globals"].(map[string]any); ok {
		t.Globals = g
	}
	t.Conditions, _ = root["Conditions"].(map[string]any)
	res, _ := root["Resources"].(map[string]any)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		props, _ := rm["Properties"].(map[string]any)
		meta, _ := rm["Metadata"].(map[string]any)
		t.Resources[id] = Resource{Type: scalar(rm["Type"]), Properties: props, Metadata: meta}
	}
	return t, nil
}

// convert turns a YAML node into plain values, expanding short tags.
func convert(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = convert(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, convert(c))
		}
		v = s
	default:
		v = n.Value
	}
	switch tag := n.Tag; tag {
	case "!Ref":
		return map[string]any{"Ref": v}
	case "!GetAtt":
		if s, ok := v.(string); ok {
			a, b, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{a, b}}
		}
		return map[string]any{"Fn::GetAtt": v}
	default:
		if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
			return map[string]any{"Fn::" + tag[1:]: v}
		}
	}
	return v
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// OfType returns the logical ids of resources of a type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9_:.]+)\}`)

// ErrNoValue is what a value resolves to when it is AWS::NoValue (the
// property is absent).
var ErrNoValue = fmt.Errorf("AWS::NoValue")

// ResolveIn is Resolve with the template's conditions: {"Fn::If": [cond,
// a, b]} picks a or b (Fn::Equals, Fn::Not, Fn::And, Fn::Or of resolvable
// values), and AWS::NoValue yields ErrNoValue.
func (t *Template) ResolveIn(v any, refs map[string]string) (string, error) {
	if m, ok := v.(map[string]any); ok {
		if args, ok := m["Fn::If"].([]any); ok && len(args) == 3 {
			c, err := t.condition(scalar(args[0]), refs)
			if err != nil {
				return "", err
			}
			if c {
				return t.ResolveIn(args[1], refs)
			}
			return t.ResolveIn(args[2], refs)
		}
		if r, ok := m["Ref"]; ok && scalar(r) == "AWS::NoValue" {
			return "", ErrNoValue
		}
	}
	return Resolve(v, refs)
}

func (t *Template) condition(name string, refs map[string]string) (bool, error) {
	c, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s not declared", name)
	}
	return t.evalCondition(c, refs)
}

func (t *Template) evalCondition(c any, refs map[string]string) (bool, error) {
	m, _ := c.(map[string]any)
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals needs two values")
			}
			a, err := Resolve(args[0], refs)
			if err != nil {
				return false, err
			}
			b, err := Resolve(args[1], refs)
			return a == b, err
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not needs one condition")
			}
			v, err := t.evalCondition(args[0], refs)
			return !v, err
		case "Fn::And", "Fn::Or":
			all := fn == "Fn::And"
			for _, a := range args {
				v, err := t.evalCondition(a, refs)
				if err != nil {
					return false, err
				}
				if v != all {
					return v, nil
				}
			}
			return all, nil
		case "Condition":
			return t.condition(scalar(arg), refs)
		}
	}
	return false, fmt.Errorf("unsupported condition %v", c)
}

// Resolve turns a property value into a string: literals as they are,
// {"Ref": x} and {"Fn::GetAtt": [a, b]} through refs (keyed "x" and "a.b"),
// and {"Fn::Sub": s} with each ${x} replaced. An unknown reference is an
// error, so a template that names a missing resource fails loudly.
func Resolve(v any, refs map[string]string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		if r, ok := x["Ref"]; ok {
			name := scalar(r)
			if val, ok := refs[name]; ok {
				return val, nil
			}
			return "", fmt.Errorf("unresolved !Ref %s", name)
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			name := scalar(g[0]) + "." + scalar(g[1])
			if val, ok := refs[name]; ok {
				return val, nil
			}
			return "", fmt.Errorf("unresolved !GetAtt %s", name)
		}
		if args, ok := x["Fn::Sub"].([]any); ok && len(args) == 2 {
			s, _ := args[0].(string)
			vars, _ := args[1].(map[string]any)
			local := make(map[string]string, len(refs)+len(vars))
			for k, v := range refs {
				local[k] = v
			}
			for k, v := range vars {
				val, err := Resolve(v, refs)
				if err != nil {
					return "", fmt.Errorf("!Sub variable %s: %w", k, err)
				}
				local[k] = val
			}
			return Resolve(map[string]any{"Fn::Sub": s}, local)
		}
		if args, ok := x["Fn::Select"].([]any); ok && len(args) == 2 {
			i, err := strconv.Atoi(scalar(args[0]))
			if err != nil {
				return "", fmt.Errorf("!Select index %v", args[0])
			}
			var items []string
			if sp, ok := args[1].(map[string]any)["Fn::Split"].([]any); ok && len(sp) == 2 {
				whole, err := Resolve(sp[1], refs)
				if err != nil {
					return "", err
				}
				items = strings.Split(whole, scalar(sp[0]))
			} else {
				for _, e := range list(args[1]) {
					v, err := Resolve(e, refs)
					if err != nil {
						return "", err
					}
					items = append(items, v)
				}
			}
			if i < 0 || i >= len(items) {
				return "", fmt.Errorf("!Select index %d out of %d", i, len(items))
			}
			return items[i], nil
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			var missing []string
			out := subVar.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				if val, ok := refs[name]; ok {
					return val
				}
				missing = append(missing, name)
				return m
			})
			if len(missing) > 0 {
				return "", fmt.Errorf("unresolved ${%s} in !Sub", strings.Join(missing, "}, ${"))
			}
			return out, nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

// DeployOverrides is the --parameter-overrides of `sam deploy --config-env
// env`: the environment's own parameter_overrides (samconfig.toml
// [env.deploy.parameters]) followed by the deployer's Key=Value pairs, which
// win on the same key. sam would take a command-line list instead of the
// environment's, so both must be passed together. It refuses a deploy that
// leaves a parameter without default unset, gives one its local value, or
// changes the environment's Stage.
func DeployOverrides(t *Template, samconfig []byte, env string, deployer []string) (string, error) {
	own, err := SAMConfigOverrides(samconfig, env+".deploy.parameters")
	if err != nil {
		return "", err
	}
	if own["Stage"] != env {
		return "", fmt.Errorf("samconfig.toml [%s.deploy.parameters] must set Stage=%s", env, env)
	}
	given, err := ParseOverrides(strings.Join(deployer, " "))
	if err != nil {
		return "", err
	}
	merged := map[string]string{}
	for _, src := range []map[string]string{own, given} {
		for k, v := range src {
			if _, declared := t.Parameters[k]; !declared {
				return "", fmt.Errorf("%s is not a parameter of template.yaml", k)
			}
			merged[k] = v
		}
	}
	if merged["Stage"] != env {
		return "", fmt.Errorf("the environment %s deploys Stage=%s, not Stage=%s", env, env, merged["Stage"])
	}
	var missing []string
	for k := range t.Required {
		switch v := merged[k]; {
		case v == "":
			missing = append(missing, k)
		case v == t.Local[k]:
			return "", fmt.Errorf("%s=%s is the local stack's value (samconfig.toml local_invoke), not a deploy's", k, v)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("give %s in DEPLOY_PARAMS (README \"Deploying with SAM\")", strings.Join(missing, ", "))
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + merged[k]
	}
	return strings.Join(out, " "), nil
}
