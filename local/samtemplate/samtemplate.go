// Package samtemplate reads template.yaml, the single source of truth of
// the local stack and runner: the table, queues and bucket to create, the
// functions with their environments, routes, queue and schedule.
package samtemplate

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the parsed template: plain values, with CloudFormation short
// tags turned into their long forms ({"Ref": x}, {"Fn::GetAtt": [a, b]}, ...).
type Template struct {
	Parameters map[string]string // defaults
	Resources  map[string]Resource
	Globals    map[string]any
	Conditions map[string]any
}

// Resource is one resource.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load parses a template file.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
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
	t := &Template{Parameters: map[string]string{}, Resources: map[string]Resource{}}
	params, _ := root["Parameters"].(map[string]any)
	for name, p := range params {
		pm, _ := p.(map[string]any)
		t.Parameters[name] = scalar(pm["Default"])
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
