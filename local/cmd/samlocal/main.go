// Command samlocal runs the functions under `sam local` on a Docker engine,
// against the same emulators as make run and make test.
//
//	samlocal invoke      sam local invoke every function once with its sample event, and check the answer
//	samlocal start-api   sam local start-api (make sam-local) until Ctrl-C
//
// It uses the Docker engine DOCKER_HOST (or the default socket) names when
// one answers; otherwise, as root, it starts Debian's dockerd itself (data
// under .tools/docker) and stops it on exit. No image registry is reachable
// here: when SAM's base image cannot be pulled it imports a stand-in under
// the exact tag SAM expects, a busybox-static root filesystem, which is
// enough for static Go binaries. Functions are built for this host's
// architecture (x86_64 here), so no emulation is needed; AWS runs arm64.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
)

func main() {
	port := flag.Int("port", 3001, "start-api port")
	flag.Parse()
	mode := flag.Arg(0)
	if mode != "invoke" && mode != "start-api" {
		fmt.Fprintln(os.Stderr, "usage: samlocal invoke|start-api")
		os.Exit(2)
	}
	if err := run(mode, *port); err != nil {
		fmt.Fprintln(os.Stderr, "samlocal:", err)
		os.Exit(1)
	}
}

func arch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

func run(mode string, port int) error {
	root, err := stack.FindRoot()
	if err != nil {
		return err
	}
	sam, err := stack.SAM(root)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stopDocker, err := ensureDocker(ctx, root)
	if err != nil {
		return err
	}
	defer stopDocker()
	if err := ensureBaseImage(ctx); err != nil {
		return err
	}
	gw, err := gateway(ctx)
	if err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{Root: root})
	if err != nil {
		return err
	}
	defer st.Stop()
	st.Setenv()
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	// Containers reach the host's emulators through the bridge's gateway.
	toGW := func(u string) string { return strings.Replace(u, "127.0.0.1", gw, 1) }
	params := map[string]string{
		"Architecture": arch(), "EmulatorEndpointUrl": toGW(st.AWSURL), "EmulatorDynamoDbEndpointUrl": toGW(st.DynamoDBURL),
		"PublicBaseUrl": fmt.Sprintf("http://127.0.0.1:%d", port), "TenantLookupEnabled": "false",
	}
	res, err := stack.Provision(ctx, awsCfg, tmpl, fmt.Sprintf("samlocal%d", os.Getpid()), params)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "claims-samlocal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	envFile := filepath.Join(work, "env.json")
	if err := writeEnv(tmpl, res.Refs, toGW, envFile); err != nil {
		return err
	}
	buildDir := filepath.Join(root, ".aws-sam", "build-local")
	overrides := []string{}
	for k, v := range params {
		overrides = append(overrides, k+"="+v)
	}
	build := exec.CommandContext(ctx, sam, "build", "--build-dir", buildDir, "--parameter-overrides", strings.Join(overrides, " "))
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-tags=lambda.norpc -ldflags=-s", "SAM_CLI_TELEMETRY=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("sam build: %v\n%s", err, out)
	}
	common := []string{"-t", filepath.Join(buildDir, "template.yaml"), "--env-vars", envFile, "--skip-pull-image",
		"--parameter-overrides", strings.Join(overrides, " ")}
	if mode == "start-api" {
		cmd := exec.CommandContext(ctx, sam, append([]string{"local", "start-api", "--port", fmt.Sprint(port)}, common...)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0")
		fmt.Printf("sam local start-api on http://127.0.0.1:%d (sam local does not enforce the JWT authorizer: send the\n"+
			"authorizer's claims yourself, see README). Ctrl-C stops it, the emulators and the Docker engine it started.\n", port)
		if err := cmd.Run(); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}
	return invokeAll(ctx, root, sam, common)
}

// check is one sample event for one function and what its answer must be.
type check struct {
	function, event string
	ok              func(out map[string]any) error
}

func status(want int) func(map[string]any) error {
	return func(out map[string]any) error {
		if got, _ := out["statusCode"].(float64); int(got) != want {
			return fmt.Errorf("statusCode %v, want %d", out["statusCode"], want)
		}
		return nil
	}
}

var checks = []check{
	{"CreateFunction", "create-claim.json", status(201)},
	{"HistoryFunction", "list-products.json", status(200)},
	{"SubmitFunction", "submit-claim.json", status(404)}, // the sample's claim id is not in this table
	{"OptOutFunction", "optout-page.json", status(404)},  // nor is its token
	{"ValidateFunction", "validation-batch.json", func(out map[string]any) error {
		f, _ := out["batchItemFailures"].([]any)
		if len(f) != 1 || f[0].(map[string]any)["itemIdentifier"] != "2e1424d4-f796-459a-8184-9c92662be6da" {
			return fmt.Errorf("batchItemFailures %v, want only the poison message", out["batchItemFailures"])
		}
		return nil
	}},
	{"FinalizeFunction", "finalize-schedule.json", func(out map[string]any) error {
		if _, ok := out["approved"]; !ok {
			return fmt.Errorf("no result counts: %v", out)
		}
		return nil
	}},
}

func invokeAll(ctx context.Context, root, sam string, common []string) error {
	failed := 0
	for _, c := range checks {
		args := append([]string{"local", "invoke", c.function, "-e", filepath.Join(root, "events", c.event)}, common...)
		cmd := exec.CommandContext(ctx, sam, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		started := time.Now()
		err := cmd.Run()
		var out map[string]any
		line := lastJSONLine(stdout.String())
		if err == nil {
			err = json.Unmarshal([]byte(line), &out)
		}
		if err == nil {
			err = c.ok(out)
		}
		if err != nil {
			failed++
			fmt.Printf("FAIL sam local invoke %s -e events/%s: %v\n%s\n%s\n", c.function, c.event, err, stdout.String(), stderr.String())
			continue
		}
		fmt.Printf("ok   sam local invoke %-17s -e events/%-24s %s\n", c.function, c.event, time.Since(started).Round(time.Millisecond))
	}
	fmt.Printf("sam local: %d passed, %d failed\n", len(checks)-failed, failed)
	if failed > 0 {
		return errors.New("sam local invoke failed")
	}
	return nil
}

func lastJSONLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "{") {
			return l
		}
	}
	return ""
}

// writeEnv writes sam's --env-vars file: every function's declared
// variables resolved to the local resources, endpoints through the gateway.
func writeEnv(t *samtemplate.Template, refs map[string]string, toGW func(string) string, path string) error {
	all := map[string]map[string]string{}
	for _, f := range t.Functions() {
		env := map[string]string{}
		for k, v := range f.Environment {
			s, err := t.ResolveIn(v, refs)
			if errors.Is(err, samtemplate.ErrNoValue) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", f.ID, k, err)
			}
			if k == "QUEUE_URL" {
				s = toGW(s)
			}
			env[k] = s
		}
		all[f.ID] = env
	}
	b, _ := json.MarshalIndent(all, "", "  ")
	return os.WriteFile(path, b, 0o600)
}
