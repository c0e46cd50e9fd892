// Command fuzzapi runs Schemathesis, a property-based fuzzer driven by
// docs/openapi.yaml, against the whole bundle: it starts a runner on a free
// port (the stack the environment names, or its own), gives the fuzzer a
// local JWT of the sample partner admin, and stops the runner whatever
// happens. Every operation of the document is fuzzed, the routes that need
// state reached through the document's links (create -> get, patch,
// evidence, submit, ...). The seed is fixed and the budget small, so a run
// is repeatable; it fails when the fuzzer finds anything. `make fuzz-api`
// runs it alone; `make test` runs it through its test.
//
//	fuzzapi [-seed N] [-examples N] [-- extra schemathesis run flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/stack"
)

// Defaults of a run: fixed, so that make test fuzzes the same cases every
// time (and a failure found once is found again).
const (
	DefaultSeed     = 20261202
	DefaultExamples = 12
)

// Options of one fuzzing run.
type Options struct {
	Root     string
	Seed     int64
	Examples int // per operation and phase
	Extra    []string
	Out      io.Writer // the fuzzer's report
	Log      io.Writer // the runner's log
	Prefix   string
}

// Schemathesis is the fuzzer install.sh puts in .tools.
func Schemathesis(root string) (string, error) {
	bin := filepath.Join(stack.ToolsDir(root), "schemathesis", "bin", "schemathesis")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%w: %s missing (local/install/install.sh schemathesis)", stack.ErrNotInstalled, bin)
	}
	return bin, nil
}

// Fuzz starts a runner, fuzzes it and stops it. The error says why the
// fuzzer failed (its report went to o.Out).
func Fuzz(ctx context.Context, o Options) error {
	bin, err := Schemathesis(o.Root)
	if err != nil {
		return err
	}
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf("fuzz%d", time.Now().UnixNano()%1e6)
	}
	r, err := runner.Start(ctx, runner.Config{Root: o.Root, Addr: "127.0.0.1:0", Prefix: o.Prefix,
		ScheduleEvery: -1, Log: o.Log})
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	defer r.Close()
	token, err := r.Authorizer().Token(runner.SampleClaims(time.Now()))
	if err != nil {
		return err
	}
	reports, err := os.MkdirTemp("", "claims-fuzzapi-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(reports)
	args := append([]string{"--config-file", filepath.Join(o.Root, "local", "cmd", "fuzzapi", "schemathesis.toml"),
		"run", filepath.Join(o.Root, "docs", "openapi.yaml"),
		"--url", r.URL(),
		"--header", "Authorization: Bearer " + token,
		"--seed", strconv.FormatInt(o.Seed, 10),
		"--max-examples", strconv.Itoa(o.Examples),
		"--workers", "1",
		"--phases", "examples,coverage,fuzzing,stateful",
		"--generation-database", "none",
		"--request-timeout", "30",
		"--report-dir", reports,
		"--no-color",
	}, o.Extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	// In a folder of its own: Schemathesis keeps a cache there
	// (.schemathesis/) whose replays would make one run depend on another.
	cmd.Dir = reports
	cmd.Stdout, cmd.Stderr = o.Out, o.Out
	// Every check runs (Schemathesis's default); schemathesis.toml says
	// which differ and why, hooks.py maps the caller's MPN ID.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "SCHEMATHESIS_HOOKS=hooks",
		"PYTHONPATH="+filepath.Join(o.Root, "local", "cmd", "fuzzapi"), "FUZZ_MPN_ID="+runner.SampleClaims(time.Now())["mpn_ids"].([]any)[0].(string))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	started := time.Now()
	err = cmd.Run()
	fmt.Fprintf(o.Out, "fuzzapi: schemathesis ran %s against %s (seed %d, %d examples per operation and phase)\n",
		time.Since(started).Round(time.Second), r.URL(), o.Seed, o.Examples)
	var exit *exec.ExitError
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("schemathesis did not finish before its deadline (%v) and was stopped: its report above is partial", ctx.Err())
	}
	if errors.As(err, &exit) {
		return fmt.Errorf("schemathesis found failures (exit %d): see its report above", exit.ExitCode())
	}
	return err
}

func main() {
	seed := flag.Int64("seed", DefaultSeed, "the fuzzer's random seed")
	examples := flag.Int("examples", DefaultExamples, "examples per operation and phase")
	verbose := flag.Bool("v", false, "show the runner's log")
	flag.Parse()
	root, err := stack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzapi:", err)
		os.Exit(1)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var log io.Writer = io.Discard
	if *verbose {
		log = os.Stderr
	}
	err = Fuzz(ctx, Options{Root: root, Seed: *seed, Examples: *examples, Extra: flag.Args(), Out: os.Stdout, Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzapi:", err)
		os.Exit(1)
	}
}
