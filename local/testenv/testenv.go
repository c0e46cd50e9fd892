// Package testenv gives tests the real local stack: `make test` starts one
// stack for every package (CLAIMS_STACK_SHARED=1 with the endpoint
// variables set); a package run alone starts its own. If the stack cannot
// start, the test binary fails and says why: it never skips.
package testenv

import (
	"context"
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

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
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
	var err error
	if root, err = stack.FindRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	if tmpl, err = samtemplate.Load(filepath.Join(root, "template.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: template.yaml:", err)
		return 1
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

// Provision creates a fresh set of the template's resources for one test.
func Provision(t testing.TB) *stack.Resources {
	t.Helper()
	if tmpl == nil {
		t.Fatal("testenv: call testenv.Main from TestMain")
	}
	// Names must suit tables, queues and buckets alike: [a-z0-9-].
	name := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(name) > 30 {
		name = name[:30]
	}
	prefix := fmt.Sprintf("t%d-%d-%s", os.Getpid()%100000, seq.Add(1), strings.Trim(name, "-"))
	mu.Lock()
	defer mu.Unlock()
	res, err := stack.Provision(context.Background(), AWSConfig(t), tmpl, prefix, nil)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return res
}
