// Package e2e_test is the product's end-to-end suite: the journeys, the API
// contract, hostile input, races, trust, the customer's pages in Chromium,
// webhooks, imports, bounces and billing's events, all through the HTTP API
// of a local runner (local/runner) that runs the functions' real binaries
// against the emulators. The runner's own behaviour (gateway, event source
// mappings, scheduler, pool) is tested in local/runner.
package e2e_test

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

// rt is the suite's runner, the one the helpers call (apitest.Drive).
var rt *runner.Runner

func TestMain(m *testing.M) {
	testenv.Main(withRunner{m})
}

// withRunner starts one runner for the suite, inside the stack testenv
// provides.
type withRunner struct{ m *testing.M }

func (w withRunner) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	rt, err = apitest.StartRunner(ctx, "e2e", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner did not start: %v\n", err)
		return 1
	}
	defer rt.Close()
	apitest.Drive(rt)
	return w.m.Run()
}
