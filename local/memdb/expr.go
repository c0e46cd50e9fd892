package memdb

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The expression language, the part of it the repository writes: condition,
// key condition and filter expressions (OR, AND, NOT, parentheses, = <> < <=
// > >=, BETWEEN, attribute_exists, attribute_not_exists, begins_with),
// update expressions (SET with + and - and if_not_exists, REMOVE, ADD) and
// projections. Anything else is refused with a ValidationException, so a
// new kind of expression fails here loudly instead of being misread.

type token struct {
	kind string // "name", "#", ":", "op", "num" or "eof"
	text string
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isIdent(rune(s[j])) {
				j++
			}
			if j == i+1 {
				return nil, validation("invalid expression: %q at %d", s, i)
			}
			out = append(out, token{kind: string(c), text: s[i:j]})
			i = j
		case isIdent(c):
			j := i
			for j < len(s) && isIdent(rune(s[j])) {
				j++
			}
			out = append(out, token{kind: "name", text: s[i:j]})
			i = j
		case strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<>"):
			out = append(out, token{kind: "op", text: s[i : i+2]})
			i += 2
		case strings.ContainsRune("=<>(),.+-[]", c):
			out = append(out, token{kind: "op", text: string(c)})
			i++
		default:
			return nil, validation("invalid expression: unexpected %q in %q", c, s)
		}
	}
	return append(out, token{kind: "eof"}), nil
}

func isIdent(c rune) bool { return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) }

// refs resolves #names and :values and records which were used.
type refs struct {
	names     map[string]string
	values    map[string]types.AttributeValue
	usedNames map[string]bool
	usedVals  map[string]bool
}

func newRefs(names map[string]string, values map[string]types.AttributeValue) *refs {
	return &refs{names: names, values: values, usedNames: map[string]bool{}, usedVals: map[string]bool{}}
}

// check refuses names or values that no expression used, as DynamoDB does.
func (r *refs) check() error {
	for k := range r.names {
		if !r.usedNames[k] {
			return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", k)
		}
	}
	for k := range r.values {
		if !r.usedVals[k] {
			return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", k)
		}
	}
	return nil
}

type parser struct {
	toks []token
	pos  int
	refs *refs
}

func newParser(expr string, r *refs) (*parser, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks, refs: r}, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }
func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == "name" && strings.EqualFold(t.text, kw)
}
func (p *parser) isOp(op string) bool { t := p.peek(); return t.kind == "op" && t.text == op }
func (p *parser) expectOp(op string) error {
	if !p.isOp(op) {
		return validation("invalid expression: expected %q, found %q", op, p.peek().text)
	}
	p.pos++
	return nil
}
func (p *parser) done() error {
	if p.peek().kind != "eof" {
		return validation("invalid expression: unexpected %q", p.peek().text)
	}
	return nil
}

// path is an attribute path: a top-level name and map keys below it.
type path []string

func (pa path) String() string { return strings.Join(pa, ".") }

func (p *parser) name() (string, error) {
	t := p.next()
	switch t.kind {
	case "#":
		n, ok := p.refs.names[t.text]
		if !ok {
			return "", validation("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		p.refs.usedNames[t.text] = true
		return n, nil
	case "name":
		if reserved[strings.ToUpper(t.text)] {
			return "", validation("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
		}
		return t.text, nil
	}
	return "", validation("invalid expression: expected an attribute name, found %q", t.text)
}

func (p *parser) path() (path, error) {
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	pa := path{n}
	for p.isOp(".") {
		p.pos++
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		pa = append(pa, n)
	}
	if p.isOp("[") {
		return nil, validation("memdb: list indexes in paths are not supported")
	}
	return pa, nil
}

// operand is a path or a value (or, in SET, a computed value).
type operand interface {
	value(it item) (types.AttributeValue, bool, error)
}

type pathOperand path
type valueOperand struct{ v types.AttributeValue }

func (o pathOperand) value(it item) (types.AttributeValue, bool, error) {
	v, ok := lookup(it, path(o))
	return v, ok, nil
}
func (o valueOperand) value(item) (types.AttributeValue, bool, error) { return o.v, true, nil }

func lookup(it item, pa path) (types.AttributeValue, bool) {
	v, ok := it[pa[0]]
	for _, k := range pa[1:] {
		if !ok {
			return nil, false
		}
		m, isMap := v.(*types.AttributeValueMemberM)
		if !isMap {
			return nil, false
		}
		v, ok = m.Value[k]
	}
	return v, ok
}

func (p *parser) operand() (operand, error) {
	if p.peek().kind == ":" {
		t := p.next()
		v, ok := p.refs.values[t.text]
		if !ok {
			return nil, validation("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
		}
		p.refs.usedVals[t.text] = true
		return valueOperand{v}, nil
	}
	pa, err := p.path()
	if err != nil {
		return nil, err
	}
	return pathOperand(pa), nil
}

// cond is a condition (condition, key condition or filter expression).
type cond interface {
	eval(it item) (bool, error)
}

type orCond struct{ a, b cond }
type andCond struct{ a, b cond }
type notCond struct{ a cond }
type cmpCond struct {
	op   string
	a, b operand
}
type betweenCond struct{ a, lo, hi operand }
type existsCond struct {
	path   path
	exists bool
}
type beginsCond struct{ a, prefix operand }

func (c orCond) eval(it item) (bool, error) {
	a, err := c.a.eval(it)
	if err != nil || a {
		return a, err
	}
	return c.b.eval(it)
}
func (c andCond) eval(it item) (bool, error) {
	a, err := c.a.eval(it)
	if err != nil || !a {
		return false, err
	}
	return c.b.eval(it)
}
func (c notCond) eval(it item) (bool, error) {
	a, err := c.a.eval(it)
	return !a, err
}
func (c existsCond) eval(it item) (bool, error) {
	_, ok := lookup(it, c.path)
	return ok == c.exists, nil
}
func (c beginsCond) eval(it item) (bool, error) {
	a, okA, _ := c.a.value(it)
	b, okB, _ := c.prefix.value(it)
	if !okA || !okB {
		return false, nil
	}
	switch av := a.(type) {
	case *types.AttributeValueMemberS:
		bv, ok := b.(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(av.Value, bv.Value), nil
	case *types.AttributeValueMemberB:
		bv, ok := b.(*types.AttributeValueMemberB)
		return ok && strings.HasPrefix(string(av.Value), string(bv.Value)), nil
	}
	return false, nil
}
func (c cmpCond) eval(it item) (bool, error) {
	a, okA, _ := c.a.value(it)
	b, okB, _ := c.b.value(it)
	if !okA || !okB {
		return false, nil
	}
	if c.op == "=" || c.op == "<>" {
		eq := equal(a, b)
		return eq == (c.op == "="), nil
	}
	n, ok := compare(a, b)
	if !ok {
		return false, nil
	}
	switch c.op {
	case "<":
		return n < 0, nil
	case "<=":
		return n <= 0, nil
	case ">":
		return n > 0, nil
	case ">=":
		return n >= 0, nil
	}
	return false, fmt.Errorf("memdb: operator %s", c.op)
}
func (c betweenCond) eval(it item) (bool, error) {
	a, okA, _ := c.a.value(it)
	lo, okL, _ := c.lo.value(it)
	hi, okH, _ := c.hi.value(it)
	if !okA || !okL || !okH {
		return false, nil
	}
	n1, ok1 := compare(a, lo)
	n2, ok2 := compare(a, hi)
	return ok1 && ok2 && n1 >= 0 && n2 <= 0, nil
}

func parseCond(expr string, r *refs) (cond, error) {
	p, err := newParser(expr, r)
	if err != nil {
		return nil, err
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	return c, p.done()
}

func (p *parser) or() (cond, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		p.pos++
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = orCond{a, b}
	}
	return a, nil
}

func (p *parser) and() (cond, error) {
	a, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		p.pos++
		b, err := p.not()
		if err != nil {
			return nil, err
		}
		a = andCond{a, b}
	}
	return a, nil
}

func (p *parser) not() (cond, error) {
	if p.isKeyword("NOT") {
		p.pos++
		a, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCond{a}, nil
	}
	return p.primary()
}

func (p *parser) primary() (cond, error) {
	if p.isOp("(") {
		p.pos++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		return c, p.expectOp(")")
	}
	if t := p.peek(); t.kind == "name" && p.toks[p.pos+1].kind == "op" && p.toks[p.pos+1].text == "(" {
		p.pos += 2
		var c cond
		switch t.text {
		case "attribute_exists", "attribute_not_exists":
			pa, err := p.path()
			if err != nil {
				return nil, err
			}
			c = existsCond{path: pa, exists: t.text == "attribute_exists"}
		case "begins_with":
			a, err := p.operand()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			b, err := p.operand()
			if err != nil {
				return nil, err
			}
			c = beginsCond{a, b}
		default:
			return nil, validation("memdb: function %s is not supported", t.text)
		}
		return c, p.expectOp(")")
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.isKeyword("BETWEEN") {
		p.pos++
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, validation("invalid expression: BETWEEN without AND")
		}
		p.pos++
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return betweenCond{a, lo, hi}, nil
	}
	t := p.next()
	switch {
	case t.kind == "op" && (t.text == "=" || t.text == "<>" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
	default:
		return nil, validation("invalid expression: expected a comparator, found %q", t.text)
	}
	b, err := p.operand()
	if err != nil {
		return nil, err
	}
	return cmpCond{op: t.text, a: a, b: b}, nil
}

// update is a parsed update expression.
type update struct {
	set    []setAction
	remove []path
	add    []addAction
}

type setAction struct {
	path path
	val  operand
}

type addAction struct {
	path path
	val  types.AttributeValue
}

type arith struct {
	op   string
	a, b operand
}

func (o arith) value(it item) (types.AttributeValue, bool, error) {
	a, okA, err := o.a.value(it)
	if err != nil {
		return nil, false, err
	}
	b, okB, err := o.b.value(it)
	if err != nil {
		return nil, false, err
	}
	if !okA || !okB {
		return nil, false, validation("The provided expression refers to an attribute that does not exist in the item")
	}
	an, ok1 := a.(*types.AttributeValueMemberN)
	bn, ok2 := b.(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return nil, false, validation("An operand in the update expression has an incorrect data type")
	}
	s, err := addNumbers(an.Value, bn.Value, o.op == "-")
	if err != nil {
		return nil, false, err
	}
	return &types.AttributeValueMemberN{Value: s}, true, nil
}

type ifNotExists struct {
	path path
	alt  operand
}

func (o ifNotExists) value(it item) (types.AttributeValue, bool, error) {
	if v, ok := lookup(it, o.path); ok {
		return v, true, nil
	}
	return o.alt.value(it)
}

func parseUpdate(expr string, r *refs) (*update, error) {
	p, err := newParser(expr, r)
	if err != nil {
		return nil, err
	}
	u := &update{}
	seen := map[string]bool{}
	for p.peek().kind != "eof" {
		t := p.next()
		clause := strings.ToUpper(t.text)
		if t.kind != "name" || seen[clause] {
			return nil, validation("invalid update expression: unexpected %q", t.text)
		}
		seen[clause] = true
		for {
			switch clause {
			case "SET":
				pa, err := p.path()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				v, err := p.setValue()
				if err != nil {
					return nil, err
				}
				u.set = append(u.set, setAction{pa, v})
			case "REMOVE":
				pa, err := p.path()
				if err != nil {
					return nil, err
				}
				u.remove = append(u.remove, pa)
			case "ADD":
				pa, err := p.path()
				if err != nil {
					return nil, err
				}
				o, err := p.operand()
				if err != nil {
					return nil, err
				}
				v, ok := o.(valueOperand)
				if !ok {
					return nil, validation("invalid update expression: ADD takes a value")
				}
				u.add = append(u.add, addAction{pa, v.v})
			default:
				return nil, validation("memdb: update clause %s is not supported", t.text)
			}
			if !p.isOp(",") {
				break
			}
			p.pos++
		}
	}
	// Two actions on one path are refused, as DynamoDB does.
	paths := map[string]bool{}
	var all []path
	for _, a := range u.set {
		all = append(all, a.path)
	}
	all = append(all, u.remove...)
	for _, a := range u.add {
		all = append(all, a.path)
	}
	for _, pa := range all {
		if paths[pa.String()] {
			return nil, validation("Invalid UpdateExpression: Two document paths overlap with each other; path: [%s]", pa)
		}
		paths[pa.String()] = true
	}
	return u, nil
}

func (p *parser) setValue() (operand, error) {
	a, err := p.setOperand()
	if err != nil {
		return nil, err
	}
	if p.isOp("+") || p.isOp("-") {
		op := p.next().text
		b, err := p.setOperand()
		if err != nil {
			return nil, err
		}
		return arith{op, a, b}, nil
	}
	return a, nil
}

func (p *parser) setOperand() (operand, error) {
	if t := p.peek(); t.kind == "name" && t.text == "if_not_exists" && p.toks[p.pos+1].text == "(" {
		p.pos += 2
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
		alt, err := p.operand()
		if err != nil {
			return nil, err
		}
		return ifNotExists{pa, alt}, p.expectOp(")")
	}
	return p.operand()
}

// apply returns the item after the update (old is not changed).
func (u *update) apply(old item) (item, error) {
	next := copyItem(old)
	for _, a := range u.set {
		v, ok, err := a.val.value(old)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, validation("The provided expression refers to an attribute that does not exist in the item")
		}
		if err := setPath(next, a.path, v); err != nil {
			return nil, err
		}
	}
	for _, pa := range u.remove {
		if len(pa) != 1 {
			return nil, validation("memdb: REMOVE of a nested path is not supported")
		}
		delete(next, pa[0])
	}
	for _, a := range u.add {
		if len(a.path) != 1 {
			return nil, validation("memdb: ADD to a nested path is not supported")
		}
		cur, exists := next[a.path[0]]
		switch v := a.val.(type) {
		case *types.AttributeValueMemberN:
			base := "0"
			if exists {
				n, ok := cur.(*types.AttributeValueMemberN)
				if !ok {
					return nil, validation("An operand in the update expression has an incorrect data type")
				}
				base = n.Value
			}
			s, err := addNumbers(base, v.Value, false)
			if err != nil {
				return nil, err
			}
			next[a.path[0]] = &types.AttributeValueMemberN{Value: s}
		case *types.AttributeValueMemberSS:
			set := []string{}
			if exists {
				ss, ok := cur.(*types.AttributeValueMemberSS)
				if !ok {
					return nil, validation("An operand in the update expression has an incorrect data type")
				}
				set = append(set, ss.Value...)
			}
			for _, s := range v.Value {
				if !contains(set, s) {
					set = append(set, s)
				}
			}
			next[a.path[0]] = &types.AttributeValueMemberSS{Value: set}
		default:
			return nil, validation("Incorrect operand type for operator or function; operator: ADD")
		}
	}
	return next, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func setPath(it item, pa path, v types.AttributeValue) error {
	if len(pa) == 1 {
		it[pa[0]] = copyValue(v)
		return nil
	}
	return validation("memdb: SET of a nested path is not supported")
}

// parseProjection reads an optional projection expression: top-level
// names, or nil (the whole item) when there is none.
func parseProjection(expr *string, r *refs) ([]string, error) {
	if aws.ToString(expr) == "" {
		return nil, nil
	}
	p, err := newParser(*expr, r)
	if err != nil {
		return nil, err
	}
	var names []string
	for {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		if len(pa) != 1 {
			return nil, validation("memdb: nested projections are not supported")
		}
		names = append(names, pa[0])
		if !p.isOp(",") {
			break
		}
		p.pos++
	}
	return names, p.done()
}

// reserved are some of DynamoDB's reserved words, those the repository
// might plausibly use as attribute names: DynamoDB refuses them without a
// #name placeholder.
var reserved = map[string]bool{
	"STATUS": true, "NAME": true, "DATA": true, "TYPE": true, "VALUE": true, "KEY": true, "COUNT": true,
	"SIZE": true, "DATE": true, "TIME": true, "TIMESTAMP": true, "USER": true, "ORDER": true, "GROUP": true,
	"COMMENT": true, "TABLE": true, "INDEX": true, "LIMIT": true, "DELETE": true, "UPDATE": true, "SET": true,
	"ADD": true, "REMOVE": true, "AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true,
}
