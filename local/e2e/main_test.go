// Package e2e_test is the product's end-to-end suite: the journeys, the API
// contract, hostile input, races, trust, the customer's pages in Chromium,
// webhooks, imports, bounces and billing's events, all through the HTTP API
// of a local runner (local/runner) that runs the functions' real binaries
// against the emulators. The runner's own behaviour (gateway, event source
// mappings, scheduler, pool) is tested in local/runner.
package e2e_test

import (
	"testing"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
)

// rt is the suite's runner, the one the helpers call (apitest.Drive).
var rt *runner.Runner

func TestMain(m *testing.M) { apitest.Main(m, "e2e", &rt) }
