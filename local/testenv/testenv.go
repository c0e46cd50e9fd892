// Package testenv gives tests the real local stack: `make test` starts one
// stack for every package (CLAIMS_STACK_SHARED=1 with the endpoint
// variables set); a package run alone starts its own. If the stack cannot
// start, the test binary fails and says why: it never skips.
//
// Under -short (`make unit`, the fast tier) Main starts no process: tests
// get their tables from the in-memory DynamoDB (local/memdb, held to the
// store's contract tests), and a test that needs LocalStack says so with
// NeedsStack and runs in the full tier only.
package testenv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/memdb"
	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/store"
)

var unsafeChars = regexp.MustCompile(`[^a-z0-9-]+`)

var (
	root string
	tmpl *samtemplate.Template
	seq  atomic.Int64
	mu   sync.Mutex
)

// Runner is what Main runs: a *testing.M, or one that wraps it with
// package-wide setup (local/runner and local/e2e start a runner inside the stack).
type Runner interface{ Run() int }

// Main is TestMain's body for packages whose tests use the stack.
func Main(m Runner) {
	os.Exit(run(m))
}

func run(m Runner) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	var err error
	if root, err = stack.FindRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	if tmpl, err = samtemplate.Load(filepath.Join(root, "template.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: template.yaml:", err)
		return 1
	}
	if testing.Short() {
		// The fast tier: no emulator, no process.
		return m.Run()
	}
	if os.Getenv("CLAIMS_STACK_SHARED") == "1" && os.Getenv("AWS_ENDPOINT_URL") != "" && os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{Root: root, ExternalAWS: os.Getenv("CLAIMS_EXTERNAL_AWS_ENDPOINT")})
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: the local AWS stack could not start: %v\n", err)
		return 1
	}
	defer st.Stop()
	st.Setenv()
	// Everything this test binary starts (runners among them) shares this
	// stack, as under make test, so none leaves the process's endpoints
	// pointing at a stack it stopped.
	os.Setenv("CLAIMS_STACK_SHARED", "1")
	return m.Run()
}

// Root is the repository's root.
func Root() string { return root }

// Template is template.yaml.
func Template() *samtemplate.Template { return tmpl }

// AWSConfig is the SDK configuration pointed at the stack (through the
// standard endpoint variables).
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return cfg
}

// Provision creates a fresh set of the template's resources for one test
// on the local stack. Under -short there is none: a test that needs it
// calls NeedsStack first.
func Provision(t testing.TB) *stack.Resources {
	t.Helper()
	if tmpl == nil {
		t.Fatal("testenv: call testenv.Main from TestMain")
	}
	if testing.Short() {
		t.Fatal("testenv.Provision: no local stack under -short; call testenv.NeedsStack(t) first, or use testenv.DynamoDB")
	}
	prefix := prefixFor(t)
	mu.Lock()
	defer mu.Unlock()
	res, err := stack.Provision(context.Background(), AWSConfig(t), tmpl, prefix, nil)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return res
}

// prefixFor names one test's resources; names must suit tables, queues and
// buckets alike: [a-z0-9-].
func prefixFor(t testing.TB) string {
	name := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(name) > 30 {
		name = name[:30]
	}
	return fmt.Sprintf("t%d-%d-%s", os.Getpid()%100000, seq.Add(1), strings.Trim(name, "-"))
}

// NeedsStack skips t under -short: it needs LocalStack (S3, SQS, SES...),
// so it runs in the full tier (make test) only.
func NeedsStack(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs LocalStack: full tier (make test)")
	}
}

// Backend is a DynamoDB the tests run on.
type Backend string

// The two DynamoDBs.
const (
	// DynamoDBLocal is the local stack's DynamoDB Local.
	DynamoDBLocal Backend = "dynamodb-local"
	// Memory is local/memdb, in the test's own process.
	Memory Backend = "memory"
)

// Backends are the DynamoDBs the store's contract tests run on: both, or
// under -short only the in-memory one.
func Backends() []Backend {
	if testing.Short() {
		return []Backend{Memory}
	}
	return []Backend{DynamoDBLocal, Memory}
}

// Table is a fresh table of template.yaml and the DynamoDB that holds it.
type Table struct {
	DB      store.DB
	Name    string
	Backend Backend
}

// NewTable creates a fresh table of the template on b.
func NewTable(t testing.TB, b Backend) Table {
	t.Helper()
	if tmpl == nil {
		t.Fatal("testenv: call testenv.Main from TestMain")
	}
	switch b {
	case Memory:
		db, err := memdb.New(tmpl, prefixFor(t))
		if err != nil {
			t.Fatal(err)
		}
		var name string
		for _, n := range db.Tables {
			name = n
		}
		if len(db.Tables) != 1 {
			t.Fatalf("testenv: template.yaml has %d tables, want the one single table", len(db.Tables))
		}
		return Table{DB: db, Name: name, Backend: Memory}
	case DynamoDBLocal:
		res := Provision(t)
		return Table{DB: awsclient.DynamoDB(AWSConfig(t)), Name: res.TableName, Backend: DynamoDBLocal}
	}
	t.Fatalf("testenv: unknown backend %q", b)
	return Table{}
}

// DynamoDB is the table a domain test runs on: in memory under -short, on
// DynamoDB Local otherwise (the in-memory DB answers as DynamoDB Local
// does: shared/store's contract tests run on both).
func DynamoDB(t testing.TB) Table {
	t.Helper()
	if testing.Short() {
		return NewTable(t, Memory)
	}
	return NewTable(t, DynamoDBLocal)
}

// Client is this tier's DynamoDB without a table of the test's own: one
// in memory holding no table under -short, DynamoDB Local otherwise.
func Client(t testing.TB) store.DB {
	t.Helper()
	if testing.Short() {
		return memdb.Empty()
	}
	return awsclient.DynamoDB(AWSConfig(t))
}
