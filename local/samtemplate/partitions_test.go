package samtemplate

// Which partitions of the single table each DynamoDB request reaches, for
// IAM per key prefix (iam_test.go grants each action only on the prefixes
// its requests name, with a dynamodb:LeadingKeys condition).
//
// A request is a composite literal the code builds: a dynamodb.<Op>Input
// (GetItem, PutItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem,
// Query) or a transaction item (types.Put, Update, Delete, ConditionCheck),
// which IAM authorizes as PutItem, UpdateItem, DeleteItem and
// ConditionCheckItem. It counts for a binary when the binary reaches both
// the function that builds it and the SDK operation that sends it
// (TransactWriteItems for the items).
//
// Its partitions are the table-partition prefix constants (tablePartitions)
// the literal names, directly or through the key helpers it calls
// (claimPK, key, claimItem...: project functions that build no request
// themselves, or return the request they build), or, when the literal names none (an item map built a few
// lines above, `Item: item`), those its enclosing function names the same
// way. A request that names none fails the test: its code must name its
// partition. A Query with IndexName is a request on that index.

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/types"
	"sort"
	"strings"
	"sync"
	"testing"
)

// tablePartitions are the constants that start a table partition key (pk),
// by package name and constant name. Every other *Prefix constant of the
// packages that build DynamoDB requests (a sort key, an index key, or no
// key at all) is listed in notTablePartitions with what it is;
// TestKeyPrefixesAreClassified keeps the two lists complete.
var tablePartitions = map[string]bool{"store.claimPrefix": true, "store.assocPrefix": true, "store.tokenPrefix": true,
	"store.idempPrefix": true, "store.declinedPrefix": true, "store.importPrefix": true, "webhook.hookPrefix": true}

var notTablePartitions = map[string]string{
	"store.eventPrefix":         "sort key of a claim's history events",
	"store.partnerPrefix":       "ByPartner index key (gsi1pk)",
	"store.duePrefix":           "ByDeadline index key (duepk)",
	"store.holderPrefix":        "ByHolder index key (holderpk)",
	"store.importPartnerPrefix": "ByPartner index key of imports (gsi1pk)",
	"store.importRowPrefix":     "sort key of an import's rows",
	"store.importErrPrefix":     "sort key of an import's errors",
	"webhook.SecretPrefix":      "a webhook secret's text, not a key",
}

const ddbPkg = "github.com/aws/aws-sdk-go-v2/service/dynamodb"

// ddbInputs: the request inputs that read or write items, by the IAM
// action that authorizes them. TransactWriteItemsInput ("") is authorized
// by its items. Any other dynamodb input a function builds fails the test
// until it is placed here.
var ddbInputs = map[string]string{
	"GetItemInput": "GetItem", "PutItemInput": "PutItem", "UpdateItemInput": "UpdateItem", "DeleteItemInput": "DeleteItem",
	"BatchGetItemInput": "BatchGetItem", "BatchWriteItemInput": "BatchWriteItem", "QueryInput": "Query",
	"TransactWriteItemsInput": "",
}

// ddbTxItems: transaction items by the IAM action of each.
var ddbTxItems = map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}

// site is one DynamoDB request built in a function.
type site struct {
	op       string   // the SDK operation that sends it, "dynamodb:GetItem"
	action   string   // the IAM action that authorizes it
	index    string   // a Query's index
	prefixes []string // the table partitions its keys name
	pos      string
	err      string // why it cannot be placed
}

var (
	sitesMu   sync.Mutex
	sitesMemo = map[string][]site{}
	buildsMem = map[string]bool{}
)

// ddbLiteral classifies a composite literal: a request input, a
// transaction item, or neither ("").
func ddbLiteral(sp *srcPkg, lit *ast.CompositeLit) (kind, name string) {
	tv, ok := sp.info.Types[lit]
	if !ok {
		return "", ""
	}
	named, _ := tv.Type.(*types.Named)
	if named == nil || named.Obj().Pkg() == nil {
		return "", ""
	}
	switch path, name := named.Obj().Pkg().Path(), named.Obj().Name(); {
	case path == ddbPkg && strings.HasSuffix(name, "Input"):
		return "input", name
	case path == ddbPkg+"/types" && ddbTxItems[name] != "":
		return "item", name
	}
	return "", ""
}

// builds reports whether a function builds a DynamoDB request itself.
func (p *program) builds(full string) bool {
	if v, ok := buildsMem[full]; ok {
		return v
	}
	fd, sp := p.decls[full], p.owner[full]
	found := false
	if fd != nil {
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if lit, ok := n.(*ast.CompositeLit); ok {
				if k, _ := ddbLiteral(sp, lit); k != "" {
					found = true
				}
			}
			return !found
		})
	}
	buildsMem[full] = found
	return found
}

// prefixesIn are the table partitions node names: prefix constants, and
// those of the key helpers it uses (functions that build no request).
func (p *program) prefixesIn(sp *srcPkg, node ast.Node, seen map[string]bool, out map[string]bool) {
	ast.Inspect(node, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		switch obj := sp.info.Uses[id].(type) {
		case *types.Const:
			if obj.Pkg() != nil && tablePartitions[obj.Pkg().Name()+"."+obj.Name()] && obj.Val().Kind() == constant.String {
				out[constant.StringVal(obj.Val())] = true
			}
		case *types.Func:
			full := obj.Origin().FullName()
			if fd := p.decls[full]; fd != nil && !seen[full] && (!p.builds(full) || returnsRequest(obj)) {
				seen[full] = true
				p.prefixesIn(p.owner[full], fd.Body, seen, out)
			}
		}
		return true
	})
}

// returnsRequest: a function that returns a request input it builds
// (historyQuery, partnerNotifiedUpdate) is a key helper of its callers,
// which send that request or turn it into a transaction item.
func returnsRequest(fn *types.Func) bool {
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil {
		return false
	}
	for i := 0; i < sig.Results().Len(); i++ {
		if strings.HasPrefix(strings.TrimPrefix(sig.Results().At(i).Type().String(), "*"), ddbPkg+".") {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sites are the DynamoDB requests one function builds.
func (p *program) sites(full string) []site {
	if v, ok := sitesMemo[full]; ok {
		return v
	}
	fd, sp := p.decls[full], p.owner[full]
	var out []site
	if fd == nil || !p.builds(full) {
		sitesMemo[full] = nil
		return nil
	}
	var enclosing []string
	enclosingDone := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			// An index named after the literal would escape the
			// analysis: the literal must name it.
			for _, l := range as.Lhs {
				if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "IndexName" {
					if tv, ok := sp.info.Types[sel.X]; ok && strings.HasSuffix(tv.Type.String(), "dynamodb.QueryInput") {
						out = append(out, site{op: "dynamodb:Query", pos: p.fset.Position(sel.Pos()).String(),
							err: "IndexName set after the QueryInput literal: name the index in the literal"})
					}
				}
			}
		}
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		kind, name := ddbLiteral(sp, lit)
		var st site
		switch kind {
		case "input":
			action, ok := ddbInputs[name]
			if !ok {
				st = site{op: "dynamodb:" + strings.TrimSuffix(name, "Input"), err: "a " + name + ", which ddbInputs does not place: map it deliberately"}
				break
			}
			if action == "" {
				return true
			}
			st = site{op: "dynamodb:" + action, action: action}
			if action == "Query" {
				st.index, st.err = queryIndex(sp, lit)
			}
		case "item":
			st = site{op: "dynamodb:TransactWriteItems", action: ddbTxItems[name]}
		default:
			return true
		}
		st.pos = p.fset.Position(lit.Pos()).String()
		if st.err == "" && st.index == "" {
			found := map[string]bool{}
			p.prefixesIn(sp, lit, map[string]bool{full: true}, found)
			if len(found) == 0 {
				if !enclosingDone {
					all := map[string]bool{}
					p.prefixesIn(sp, fd.Body, map[string]bool{full: true}, all)
					enclosing, enclosingDone = sortedKeys(all), true
				}
				for _, e := range enclosing {
					found[e] = true
				}
			}
			st.prefixes = sortedKeys(found)
			if len(st.prefixes) == 0 {
				st.err = "names no table partition (a tablePartitions constant, directly or through a key helper): name its key in the code"
			}
		}
		out = append(out, st)
		return true
	})
	sitesMemo[full] = out
	return out
}

// queryIndex is the IndexName a QueryInput literal names ("" for none).
func queryIndex(sp *srcPkg, lit *ast.CompositeLit) (string, string) {
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "IndexName" {
			continue
		}
		ix := ""
		ast.Inspect(kv.Value, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok && ix == "" {
				if v := sp.info.Types[e].Value; v != nil && v.Kind() == constant.String {
					ix = constant.StringVal(v)
					return false
				}
			}
			return ix == ""
		})
		if ix == "" {
			return "", "IndexName is not a constant"
		}
		return ix, ""
	}
	return "", ""
}

// chain is how a function is reached, for failure messages.
func (r *Reach) chain(f string) string {
	var chain []string
	for ; f != "" && len(chain) < 30; f = r.Funcs[f] {
		chain = append(chain, f)
		if r.Funcs[f] == f {
			break
		}
	}
	return strings.Join(chain, " <- ")
}

// placeAccesses fills r.Accesses from the requests of the functions r
// reaches whose operations r reaches too.
func (p *program) placeAccesses(r *Reach) {
	sitesMu.Lock()
	defer sitesMu.Unlock()
	funcs := make([]string, 0, len(r.Funcs))
	for f := range r.Funcs {
		funcs = append(funcs, f)
	}
	sort.Strings(funcs)
	for _, f := range funcs {
		for _, st := range p.sites(f) {
			if !r.Ops[st.op] {
				continue
			}
			if st.err != "" {
				r.Unplaced = append(r.Unplaced, fmt.Sprintf("%s at %s: %s", st.op, st.pos, st.err))
				continue
			}
			why := fmt.Sprintf("%s at %s <- %s", st.action, st.pos, r.chain(f))
			if st.index != "" {
				if k := "index:" + st.index + " " + st.action; r.Accesses[k] == "" {
					r.Accesses[k] = why
				}
				continue
			}
			for _, pre := range st.prefixes {
				if k := pre + " " + st.action; r.Accesses[k] == "" {
					r.Accesses[k] = why
				}
			}
		}
	}
}

// Every *Prefix string constant of the packages that build DynamoDB
// requests is classified: a table partition (granted per prefix) or not.
// A new partition prefix left out of tablePartitions would leave its
// requests placed on the wrong partition, or on none.
func TestKeyPrefixesAreClassified(t *testing.T) {
	p := loadProgram(t)
	sitesMu.Lock()
	defer sitesMu.Unlock()
	builders := map[string]bool{}
	for full := range p.decls {
		if p.builds(full) {
			builders[p.owner[full].path] = true
		}
	}
	if !builders[module+"/shared/store"] || !builders[module+"/shared/webhook"] {
		t.Fatalf("packages that build DynamoDB requests %v: want shared/store and shared/webhook among them", builders)
	}
	seen := map[string]bool{}
	for path := range builders {
		sp := p.pkgs[path]
		scope := sp.pkg.Scope()
		for _, name := range scope.Names() {
			c, ok := scope.Lookup(name).(*types.Const)
			if !ok || !strings.HasSuffix(name, "Prefix") || c.Val().Kind() != constant.String {
				continue
			}
			k := sp.pkg.Name() + "." + name
			seen[k] = true
			if tablePartitions[k] == (notTablePartitions[k] != "") {
				t.Errorf("%s = %q: classify it, in tablePartitions (starts a pk) or notTablePartitions (anything else)", k, constant.StringVal(c.Val()))
			}
		}
	}
	for k := range tablePartitions {
		if !seen[k] {
			t.Errorf("tablePartitions names %s, which no package that builds requests declares", k)
		}
	}
	for k := range notTablePartitions {
		if !seen[k] {
			t.Errorf("notTablePartitions names %s, which no package that builds requests declares", k)
		}
	}
}

// The analysis itself, on a small program: a request is placed on the
// partition its key helpers name, or that the item map built above it
// names; a Query with IndexName is on that index; a request built but
// never sent grants nothing; and a request whose key comes from elsewhere
// is refused, not granted on every partition.
func TestRequestsArePlacedOnTheirPartitions(t *testing.T) {
	real := loadProgram(t)
	const src = `package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	claimPrefix = "CLAIM#"
	tokenPrefix = "TOKEN#"
)

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk string) map[string]types.AttributeValue { return map[string]types.AttributeValue{"pk": str(pk)} }

func claimPK(id string) string { return claimPrefix + id }

func tokenItem(h string) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{}
	it["pk"] = str(tokenPrefix + h)
	return it
}

func get(db *dynamodb.Client) { db.GetItem(context.TODO(), &dynamodb.GetItemInput{Key: key(claimPK("x"))}) }

func putToken(db *dynamodb.Client) {
	it := tokenItem("h")
	db.TransactWriteItems(context.TODO(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: &types.Put{Item: it}}}})
}

func blind(db *dynamodb.Client, k map[string]types.AttributeValue) {
	db.DeleteItem(context.TODO(), &dynamodb.DeleteItemInput{Key: k})
}

func listed(db *dynamodb.Client) {
	db.Query(context.TODO(), &dynamodb.QueryInput{IndexName: aws.String("ByPartner")})
}

func unsent() *dynamodb.UpdateItemInput { return &dynamodb.UpdateItemInput{Key: key(claimPK("y"))} }

func main() {
	get(nil)
	putToken(nil)
	blind(nil, nil)
	listed(nil)
	_ = unsent()
}
`
	path := module + "/local/samtemplate/testdata/store"
	p := syntheticProgram(t, real, path, src)
	r, err := p.reach(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range r.Accesses {
		got = append(got, k)
	}
	sort.Strings(got)
	if want := []string{"CLAIM# GetItem", "TOKEN# PutItem", "index:ByPartner Query"}; strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("accesses %v, want %v", got, want)
	}
	if len(r.Unplaced) != 1 || !strings.Contains(r.Unplaced[0], "dynamodb:DeleteItem") || !strings.Contains(r.Unplaced[0], "names no table partition") {
		t.Errorf("unplaced %q, want the DeleteItem whose key is a parameter", r.Unplaced)
	}
	// The IAM test turns an unplaced request into a failure.
	if err := dynamoGrants(r, func(string) (string, error) { return "ClaimsTable", nil }, func(string, string) {}); err == nil {
		t.Error("dynamoGrants accepted a request on no known partition")
	}
}

// syntheticProgram type-checks one package of source (a main, importing
// only the SDK's export data) into a program of its own, for tests of the
// analysis.
func syntheticProgram(t *testing.T, real *program, path, src string) *program {
	t.Helper()
	f, err := parser.ParseFile(real.fset, path+".go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	sp := &srcPkg{path: path, files: []*ast.File{f}, info: newInfo()}
	if sp.pkg, err = (&types.Config{Importer: real.imp}).Check(path, real.fset, sp.files, sp.info); err != nil {
		t.Fatal(err)
	}
	p := &program{fset: real.fset, pkgs: map[string]*srcPkg{path: sp}, decls: map[string]*ast.FuncDecl{}, owner: map[string]*srcPkg{},
		methods: map[string][]method{}, deps: map[string][]string{}, imp: real.imp}
	p.index(sp)
	p.buildSSA()
	return p
}
