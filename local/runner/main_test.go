package runner_test

import (
	"testing"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
)

// rt is the package's runner, the one the helpers call (apitest.Drive).
var rt *runner.Runner

func TestMain(m *testing.M) { apitest.Main(m, "api", &rt) }
