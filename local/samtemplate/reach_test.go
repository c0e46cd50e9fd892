package samtemplate

// What each function's code can reach, derived from the source: a call graph
// over the project's own packages, from each function's main, built with the
// standard library only (go/parser, go/types and the compiler's export data
// that `go list -export` leaves in the build cache). The IAM test compares
// what it finds with template.yaml's policies.
//
// It is deliberately conservative where Go is dynamic: a function value that
// is merely referenced counts as called, and every package-level
// initializer of a linked package is a root. Interface method calls are
// resolved by class hierarchy analysis over the binary: a call through a
// project interface (a consumer's Store, store.Claims) reaches the method
// of that name of every project type linked into the binary, declared at
// package level or in a function, whose method set has all the
// interface's methods with their signatures (a method promoted from an
// embedded interface dispatches again through that interface). Methods
// that code outside the project may call (a library calls back through
// its own interfaces: error, fmt.Stringer, json.Marshaler...) are reached
// when a value of their type escapes to such an interface: the SSA form of
// each reached function (golang.org/x/tools/go/ssa) names every
// conversion to an interface, and a conversion of a project type to an
// interface that is empty or has a method outside the project (or of a
// project interface value to one, or an assertion to one) reaches every
// exported project method of the types it may hold and of the types a
// library can reach inside them by reflection (exported fields, elements,
// keys, pointees). An instance of a project generic function is scanned
// with its type arguments where it is called.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/ssa"
)

const module = "github.com/cpor-claims/claims"

// Reach is what one binary's code can reach.
type Reach struct {
	// Ops are the AWS SDK operations called, "service:Operation" (from the
	// operation's *<Op>Input parameter, so interface and presign calls count).
	Ops map[string]bool
	// Accesses are the DynamoDB requests built and sent, each as
	// "<partition prefix> <action>" on the table (action: the IAM action
	// that authorizes it; a transaction's items by their kind: PutItem,
	// UpdateItem, DeleteItem, ConditionCheckItem) or "index:<name> Query",
	// with the chain of calls that reaches it.
	Accesses map[string]string
	// Unplaced are DynamoDB requests the analysis cannot put on a
	// partition: each fails the IAM test until its code names its key.
	Unplaced []string
	// Consts are the project constants referenced ("store.claimPrefix").
	Consts map[string]string
	// Funcs are the project functions reached (full names), each with the
	// function it was first reached from; At is where each op was first seen.
	Funcs map[string]string
	At    map[string]string

	linked map[string]bool
}

// Why is the chain of calls that reaches an op, for failure messages.
func (r *Reach) Why(op string) string {
	var chain []string
	for f := r.At[op]; f != "" && len(chain) < 30; f = r.Funcs[f] {
		chain = append(chain, f)
		if r.Funcs[f] == f {
			break
		}
	}
	return op + " <- " + strings.Join(chain, " <- ")
}

type srcPkg struct {
	path  string
	files []*ast.File
	info  *types.Info
	pkg   *types.Package
}

type program struct {
	fset  *token.FileSet
	pkgs  map[string]*srcPkg
	decls map[string]*ast.FuncDecl // full name -> declaration
	owner map[string]*srcPkg       // full name -> its package
	// methods by name: full names of concrete project methods, with the
	// method names of their receiver's method set.
	methods map[string][]method
	deps    map[string][]string // import path -> project imports (transitive deps of a main)
	imp     types.Importer      // export data of every dependency of the functions
	// The SSA form of the project's functions (full name -> function) and
	// of each package's initializer (import path -> init), for the
	// conversions to interfaces each one makes.
	ssaFuncs map[string]*ssa.Function
	ssaInits map[string]*ssa.Function
}

type method struct {
	full string
	obj  *types.Func // its declaration: a method of an embedded interface dispatches again
	pkg  string
	set  map[string]string // method name -> signature
}

// newInfo records what go/types and go/ssa need of a type-checked package.
func newInfo() *types.Info {
	return &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{},
		Types: map[ast.Expr]types.TypeAndValue{}, Selections: map[*ast.SelectorExpr]*types.Selection{},
		Implicits: map[ast.Node]types.Object{}, Instances: map[*ast.Ident]types.Instance{},
		Scopes: map[ast.Node]*types.Scope{}, FileVersions: map[*ast.File]string{}}
}

// sourceImporter gives the project packages already type-checked from
// source (go list -deps lists a package after its dependencies), so that
// one types.Package stands for each path; export data for the others.
type sourceImporter struct{ p *program }

func (s sourceImporter) Import(path string) (*types.Package, error) {
	if sp, ok := s.p.pkgs[path]; ok {
		return sp.pkg, nil
	}
	return s.p.imp.Import(path)
}

// index records a type-checked package's function declarations and the
// method sets of its concrete named types, package-level or local.
func (p *program) index(sp *srcPkg) {
	for _, f := range sp.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, _ := sp.info.Defs[fd.Name].(*types.Func)
			if fn == nil {
				continue
			}
			p.decls[fn.FullName()] = fd
			p.owner[fn.FullName()] = sp
		}
	}
	var names []*types.TypeName
	for _, obj := range sp.info.Defs {
		if tn, ok := obj.(*types.TypeName); ok && !tn.IsAlias() {
			names = append(names, tn)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Pos() < names[j].Pos() })
	for _, tn := range names {
		if _, isIface := tn.Type().Underlying().(*types.Interface); isIface {
			continue
		}
		if _, isParam := tn.Type().(*types.TypeParam); isParam {
			continue
		}
		ms := types.NewMethodSet(types.NewPointer(tn.Type()))
		set := map[string]string{}
		for i := 0; i < ms.Len(); i++ {
			set[ms.At(i).Obj().Name()] = types.TypeString(ms.At(i).Obj().Type(), nil)
		}
		for i := 0; i < ms.Len(); i++ {
			m := ms.At(i).Obj().(*types.Func)
			if m.Pkg() != nil && strings.HasPrefix(m.Pkg().Path(), module) {
				p.methods[m.Name()] = append(p.methods[m.Name()], method{full: m.Origin().FullName(), obj: m.Origin(), pkg: sp.path, set: set})
			}
		}
	}
}

// buildSSA builds the SSA form of the project's packages (the others,
// from export data, without bodies) and indexes its functions.
func (p *program) buildSSA() {
	prog := ssa.NewProgram(p.fset, ssa.InstantiateGenerics)
	created := map[*types.Package]bool{}
	var create func(pkg *types.Package)
	create = func(pkg *types.Package) {
		if created[pkg] {
			return
		}
		created[pkg] = true
		for _, imp := range pkg.Imports() {
			create(imp)
		}
		if sp, ok := p.pkgs[pkg.Path()]; ok && sp.pkg == pkg {
			prog.CreatePackage(pkg, sp.files, sp.info, true)
			return
		}
		prog.CreatePackage(pkg, nil, nil, true)
	}
	paths := make([]string, 0, len(p.pkgs))
	for path := range p.pkgs {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		create(p.pkgs[path].pkg)
	}
	prog.Build()
	p.ssaFuncs, p.ssaInits = map[string]*ssa.Function{}, map[string]*ssa.Function{}
	for _, path := range paths {
		sp := p.pkgs[path]
		pkg := prog.Package(sp.pkg)
		p.ssaInits[path] = pkg.Func("init")
		for full := range p.decls {
			if p.owner[full] != sp {
				continue
			}
			if fn, ok := sp.info.Defs[p.decls[full].Name].(*types.Func); ok {
				if f := prog.FuncValue(fn); f != nil {
					p.ssaFuncs[full] = f
				}
			}
		}
	}
}

var (
	progOnce sync.Once
	prog     *program
	progErr  error
)

type listed struct {
	ImportPath string
	Dir        string
	Export     string
	GoFiles    []string
	Deps       []string
	Module     *struct{ Path string }
}

// loadProgram type-checks every project package linked into the functions.
func loadProgram(t *testing.T) *program {
	t.Helper()
	progOnce.Do(func() { prog, progErr = buildProgram() })
	if progErr != nil {
		t.Fatal(progErr)
	}
	return prog
}

func buildProgram() (*program, error) {
	cmd := exec.Command("go", "list", "-deps", "-export", "-json=ImportPath,Dir,Export,GoFiles,Deps,Module", "./functions/...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var project []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var l listed
		if err := dec.Decode(&l); err != nil {
			return nil, err
		}
		exports[l.ImportPath] = l.Export
		if l.Module != nil && l.Module.Path == module {
			project = append(project, l)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	p := &program{fset: fset, pkgs: map[string]*srcPkg{}, decls: map[string]*ast.FuncDecl{}, owner: map[string]*srcPkg{},
		methods: map[string][]method{}, deps: map[string][]string{}, imp: imp}
	for _, l := range project {
		sp := &srcPkg{path: l.ImportPath}
		for _, name := range l.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(l.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			sp.files = append(sp.files, f)
		}
		sp.info = newInfo()
		conf := types.Config{Importer: sourceImporter{p}}
		pkg, err := conf.Check(l.ImportPath, fset, sp.files, sp.info)
		if err != nil {
			return nil, fmt.Errorf("type-check %s: %w", l.ImportPath, err)
		}
		sp.pkg = pkg
		p.pkgs[l.ImportPath] = sp
		for _, d := range l.Deps {
			if strings.HasPrefix(d, module+"/") {
				p.deps[l.ImportPath] = append(p.deps[l.ImportPath], d)
			}
		}
		p.index(sp)
	}
	p.buildSSA()
	return p, nil
}

var sdkInput = regexp.MustCompile(`^\*github\.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)\.([A-Za-z0-9]+)Input$`)

// reach walks the call graph of one binary (the import path of its main).
func (p *program) reach(mainPkg string) (*Reach, error) {
	if _, ok := p.pkgs[mainPkg]; !ok {
		return nil, fmt.Errorf("%s is not a loaded package", mainPkg)
	}
	r := &Reach{Ops: map[string]bool{}, Accesses: map[string]string{}, Consts: map[string]string{}, Funcs: map[string]string{}, At: map[string]string{}}
	linked := map[string]bool{mainPkg: true}
	for _, d := range p.deps[mainPkg] {
		linked[d] = true
	}
	r.linked = linked
	var queue []string
	cur := mainPkg + ".main"
	add := func(full string) {
		if _, seen := r.Funcs[full]; !seen {
			r.Funcs[full] = cur
			queue = append(queue, full)
		}
	}
	add(cur)
	cur = "(package initializer)"
	// Package initializers of every linked project package are roots.
	for path := range linked {
		sp := p.pkgs[path]
		for _, f := range sp.files {
			for _, d := range f.Decls {
				if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
					p.visit(sp, gd, r, add, cur)
				}
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "init" {
					p.visit(sp, fd.Body, r, add, cur)
				}
			}
		}
		// The package's SSA initializer holds its variables'
		// initializers and calls its init functions (init#1...).
		if init := p.ssaInits[path]; init != nil {
			p.escapes(init, r, add, map[*ssa.Function]bool{})
		}
	}
	for len(queue) > 0 {
		full := queue[0]
		queue = queue[1:]
		cur = full
		fd, ok := p.decls[full]
		if !ok {
			continue // a declaration without a body, or outside the project
		}
		p.visit(p.owner[full], fd.Body, r, add, cur)
		if fn := p.ssaFuncs[full]; fn != nil {
			p.escapes(fn, r, add, map[*ssa.Function]bool{})
		}
	}
	p.placeAccesses(r)
	return r, nil
}

func (p *program) visit(sp *srcPkg, node ast.Node, r *Reach, add func(string), cur string) {
	ast.Inspect(node, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			switch obj := sp.info.Uses[x].(type) {
			case *types.Func:
				p.useFunc(obj, r, add, cur)
			case *types.Const:
				if obj.Pkg() != nil && strings.HasPrefix(obj.Pkg().Path(), module) && obj.Val().Kind() == constant.String {
					r.Consts[obj.Pkg().Name()+"."+obj.Name()] = constant.StringVal(obj.Val())
				}
			}
		}
		return true
	})
}

func (p *program) useFunc(fn *types.Func, r *Reach, add func(string), cur string) {
	fn = fn.Origin()
	sig, _ := fn.Type().(*types.Signature)
	if sig != nil && sig.Params().Len() >= 2 {
		if m := sdkInput.FindStringSubmatch(sig.Params().At(1).Type().String()); m != nil {
			// A presigned request is the operation of its input
			// (PresignPostObject: PutObject), made later by its holder.
			op := m[1] + ":" + m[2]
			if !r.Ops[op] {
				r.Ops[op], r.At[op] = true, cur
			}
			return
		}
	}
	if fn.Pkg() == nil || !strings.HasPrefix(fn.Pkg().Path(), module) {
		return
	}
	if sig != nil && sig.Recv() != nil {
		if iface, ok := sig.Recv().Type().Underlying().(*types.Interface); ok {
			// Every project type linked into this binary whose methods
			// have the interface's names and signatures.
			for _, m := range p.implementers(iface, r, fn.Name()) {
				if m.obj != fn && isInterfaceMethod(m.obj) {
					// Promoted from an interface the type embeds:
					// whatever that interface holds.
					p.useFunc(m.obj, r, add, cur)
					continue
				}
				add(m.full)
			}
			return
		}
	}
	add(fn.FullName())
}

// implementers are the methods called name of the project types linked
// into r's binary whose method sets have all of iface's methods.
func (p *program) implementers(iface *types.Interface, r *Reach, name string) []method {
	var out []method
	for _, m := range p.methods[name] {
		all := r.linked[m.pkg]
		for i := 0; all && i < iface.NumMethods(); i++ {
			im := iface.Method(i)
			all = m.set[im.Name()] == types.TypeString(im.Type(), nil)
		}
		if all {
			out = append(out, m)
		}
	}
	return out
}

func isInterfaceMethod(fn *types.Func) bool {
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return false
	}
	_, ok := sig.Recv().Type().Underlying().(*types.Interface)
	return ok
}

func inModule(pkg *types.Package) bool {
	return pkg != nil && strings.HasPrefix(pkg.Path(), module)
}

// escaping: an interface that code outside the project may call methods
// through: empty (a library may assert it to any interface of its own),
// or with a method declared outside the project (error's Error,
// fmt.Stringer's String).
func escaping(t types.Type) bool {
	iface, ok := t.Underlying().(*types.Interface)
	if !ok {
		return false
	}
	if iface.NumMethods() == 0 {
		return true
	}
	for i := 0; i < iface.NumMethods(); i++ {
		if !inModule(iface.Method(i).Pkg()) {
			return true
		}
	}
	return false
}

// escapes reaches the methods that code outside the project may call on
// the values fn (and the function literals in it) puts in interfaces:
// every exported project method of a concrete type converted to an
// escaping interface, and of every linked type that may be held by a
// project interface converted or asserted to one. (A value reaches an
// empty interface only through such conversions, so a conversion from an
// empty interface adds nothing.) Project interfaces that do not escape are
// dispatched where they are called (useFunc).
func (p *program) escapes(fn *ssa.Function, r *Reach, add func(string), seen map[*ssa.Function]bool) {
	if seen[fn] {
		return
	}
	seen[fn] = true
	// exported reaches the exported project methods of t and of every type
	// a library can reach inside it by reflection (encoding/json calls a
	// field's or an element's MarshalJSON): exported fields, elements,
	// keys, pointees, each also addressed. An interface inside holds values
	// counted where they were converted.
	walked := map[string]bool{}
	var exported func(t types.Type)
	exported = func(t types.Type) {
		k := types.TypeString(t, nil)
		if walked[k] {
			return
		}
		walked[k] = true
		switch t.(type) {
		case *types.TypeParam, *types.Interface:
			return // an instance is scanned with its type arguments (below)
		}
		for _, mt := range []types.Type{t, types.NewPointer(t)} {
			ms := types.NewMethodSet(mt)
			for i := 0; i < ms.Len(); i++ {
				m := ms.At(i).Obj().(*types.Func)
				if m.Exported() && inModule(m.Pkg()) && !isInterfaceMethod(m.Origin()) {
					add(m.Origin().FullName())
				}
			}
		}
		switch u := t.Underlying().(type) {
		case *types.Pointer:
			exported(u.Elem())
		case *types.Slice:
			exported(u.Elem())
		case *types.Array:
			exported(u.Elem())
		case *types.Chan:
			exported(u.Elem())
		case *types.Map:
			exported(u.Key())
			exported(u.Elem())
		case *types.Struct:
			for i := 0; i < u.NumFields(); i++ {
				if f := u.Field(i); f.Exported() || f.Embedded() {
					exported(f.Type())
				}
			}
		}
	}
	held := func(from types.Type) {
		iface, ok := from.Underlying().(*types.Interface)
		if !ok || iface.NumMethods() == 0 || escaping(from) {
			return // a concrete value, counted where it was converted
		}
		name := iface.Method(0).Name()
		for _, m := range p.implementers(iface, r, name) {
			if isInterfaceMethod(m.obj) {
				continue // the embedded interface's values are counted where they were converted
			}
			// m.obj's receiver type, as a pointer: its full method set.
			sig := m.obj.Type().(*types.Signature)
			recv := sig.Recv().Type()
			if _, ok := recv.(*types.Pointer); !ok {
				recv = types.NewPointer(recv)
			}
			exported(recv)
		}
	}
	for _, b := range fn.Blocks {
		for _, ins := range b.Instrs {
			switch x := ins.(type) {
			case *ssa.MakeInterface:
				if escaping(x.Type()) {
					exported(x.X.Type())
				}
			case *ssa.ChangeInterface:
				if escaping(x.Type()) {
					held(x.X.Type())
				}
			case *ssa.TypeAssert:
				if escaping(x.AssertedType) {
					held(x.X.Type())
				}
			case *ssa.Call:
				// init#1... of the same package, called by its initializer.
				if callee := x.Call.StaticCallee(); callee != nil && callee.Pkg == fn.Pkg && fn.Name() == "init" && strings.HasPrefix(callee.Name(), "init#") {
					p.escapes(callee, r, add, seen)
				}
			}
			// An instance of a project generic function this one calls or
			// refers to converts its type arguments' values.
			for _, op := range ins.Operands(nil) {
				if f, ok := (*op).(*ssa.Function); ok && len(f.TypeArgs()) > 0 && f.Origin() != nil && f.Origin().Pkg != nil && inModule(f.Origin().Pkg.Pkg) {
					p.escapes(f, r, add, seen)
				}
			}
		}
	}
	for _, anon := range fn.AnonFuncs {
		p.escapes(anon, r, add, seen)
	}
}

// reachAll derives every function binary's reach, keyed by CodeUri
// ("functions/create/").
func reachAll(t *testing.T) map[string]*Reach {
	t.Helper()
	p := loadProgram(t)
	out := map[string]*Reach{}
	var mains []string
	for path := range p.pkgs {
		if strings.HasPrefix(path, module+"/functions/") {
			mains = append(mains, path)
		}
	}
	sort.Strings(mains)
	for _, m := range mains {
		r, err := p.reach(m)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(m, module+"/")+"/"] = r
	}
	return out
}

// Calls through interfaces, on a small program: a consumer's own Store
// interface (embedding the store's Claims, as the domain packages do), a
// method value of it, a struct that embeds the interface, and a type
// declared in a function all reach the store's requests; a type that lacks
// one of the interface's methods is not reached. A method that only a
// library calls (an error's Error, called by fmt) is reached once a value
// of its type is converted to an interface the library sees (error, any),
// directly, through a project interface, or inside a value a generic
// function marshals (a field of an element); the same method on a type
// never converted grants nothing.
func TestInterfaceCallsAreFollowed(t *testing.T) {
	real := loadProgram(t)
	const src = `package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	claimPrefix    = "CLAIM#"
	tokenPrefix    = "TOKEN#"
	assocPrefix    = "ASSOC#"
	declinedPrefix = "DECLINED#"
	idempPrefix    = "IDEMP#"
	importPrefix   = "IMPORT#"
)

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

var db *dynamodb.Client

type Claims interface {
	Get(ctx context.Context, id string) error
	Commit(ctx context.Context) error
}

// The consumer's interface, as a domain package declares it.
type Store interface {
	Claims
	Held(ctx context.Context) error
}

type DB struct{}

func (DB) Get(ctx context.Context, id string) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{Key: key(claimPrefix + id)})
	return err
}

func (DB) Commit(ctx context.Context) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{Key: key(claimPrefix)})
	return err
}

func (*DB) Held(ctx context.Context) error {
	_, err := db.Query(ctx, &dynamodb.QueryInput{ExpressionAttributeValues: key(assocPrefix)})
	return err
}

// Half has Get but not Commit: no Claims can hold it.
type Half struct{}

func (Half) Get(ctx context.Context, id string) error {
	_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{Key: key(idempPrefix + id)})
	return err
}

// Getter and Committer are a Claims only together, in a type declared in
// main.
type Getter struct{}

func (Getter) Get(ctx context.Context, id string) error {
	_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{Key: key(tokenPrefix + id)})
	return err
}

type Committer struct{}

func (Committer) Commit(ctx context.Context) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{Key: key(tokenPrefix)})
	return err
}

// Wrap holds a Claims: its promoted Commit calls whatever that holds.
type Wrap struct{ Claims }

func transition(ctx context.Context, c Claims) error {
	get := c.Get // a method value of the interface
	if err := get(ctx, "x"); err != nil {
		return err
	}
	return c.Commit(ctx)
}

// Refused is an error whose Error only fmt calls.
type Refused struct{}

func (Refused) Error() string {
	db.PutItem(context.TODO(), &dynamodb.PutItemInput{Item: key(declinedPrefix)})
	return "refused"
}

// Quiet has an Error method too, but no value of it becomes an interface.
type Quiet struct{}

func (Quiet) Error() string {
	db.PutItem(context.TODO(), &dynamodb.PutItemInput{Item: key(idempPrefix)})
	return "quiet"
}

// Described reaches fmt only through a project interface.
type Described interface{ Describe() string }

type Import struct{}

func (Import) Describe() string { return "import" }

func (Import) String() string {
	db.BatchGetItem(context.TODO(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {Keys: []map[string]types.AttributeValue{key(importPrefix)}}}})
	return "import"
}

// Cell's MarshalJSON is called by encoding/json on a field of an element
// of the slice a generic function marshals.
type Row struct{ Cell Cell }

type Cell struct{}

func (Cell) MarshalJSON() ([]byte, error) {
	db.GetItem(context.TODO(), &dynamodb.GetItemInput{Key: key(assocPrefix)})
	return []byte("{}"), nil
}

func encode[T any](v []T) ([]byte, error) { return json.Marshal(v) }

func check(ok bool) error {
	if !ok {
		return Refused{}
	}
	return nil
}

func main() {
	ctx := context.TODO()
	var st Store = &DB{}
	_ = transition(ctx, st)
	_ = st.Held(ctx)
	var w Claims = Wrap{st}
	_ = w.Commit(ctx)
	type local struct {
		Getter
		Committer
	}
	_ = transition(ctx, local{})
	var d Described = Import{}
	fmt.Println(check(false), d)
	_ = Quiet{}
	_, _ = encode([]Row{{}})
}
`
	p := syntheticProgram(t, real, module+"/local/samtemplate/testdata/iface", src)
	r, err := p.reach(module + "/local/samtemplate/testdata/iface")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range r.Accesses {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{"ASSOC# GetItem", "ASSOC# Query", "CLAIM# GetItem", "CLAIM# UpdateItem", "DECLINED# PutItem", "IMPORT# BatchGetItem", "TOKEN# DeleteItem", "TOKEN# UpdateItem"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("accesses %v, want %v", got, want)
	}
	for _, f := range []string{"(*" + module + "/local/samtemplate/testdata/iface.DB).Held"} {
		if _, ok := r.Funcs[f]; !ok {
			t.Errorf("%s not reached through Store", f)
		}
	}
	for _, f := range []string{"(" + module + "/local/samtemplate/testdata/iface.Half).Get", "(" + module + "/local/samtemplate/testdata/iface.Quiet).Error"} {
		if why, ok := r.Funcs[f]; ok {
			t.Errorf("%s reached (from %s): no interface can hold its type", f, why)
		}
	}
}
