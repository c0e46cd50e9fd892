package runner_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
)

// rt is the package's runner, the one the helpers call (apitest.Drive).
var rt *runner.Runner

func TestMain(m *testing.M) {
	testenv.Main(withRunner{m})
}

// withRunner starts one runner for the package's tests, inside the stack
// testenv provides.
type withRunner struct{ m *testing.M }

func (w withRunner) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	rt, err = apitest.StartRunner(ctx, "api", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner did not start: %v\n", err)
		return 1
	}
	defer rt.Close()
	apitest.Drive(rt)
	return w.m.Run()
}
