// Command samlocal runs the functions under `sam local` on a Docker engine,
// against the same emulators as make run and make test.
//
//	samlocal invoke      sam local invoke each sample event of events/ in one story (checks.go), and check each answer
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/identity"
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
	gw, stopDocker, err := ensureDocker(ctx, root)
	if err != nil {
		return err
	}
	defer stopDocker()
	if err := ensureBaseImage(ctx); err != nil {
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
	// The tenant/domain check is on, against the identity platform's
	// stand-in (seeded with the README's sample tenants, the samples' one
	// included), served on the bridge's gateway for the containers.
	idLn, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		return fmt.Errorf("identity platform stand-in: %w", err)
	}
	idSrv := &http.Server{Handler: identity.New(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = idSrv.Serve(idLn) }()
	defer idSrv.Close()
	lookupURL := "http://" + idLn.Addr().String()
	// The template's local values (samconfig.toml), then this run's.
	params := tmpl.Values(map[string]string{
		"Architecture": arch(), "EmulatorEndpointUrl": toGW(st.AWSURL), "EmulatorDynamoDbEndpointUrl": toGW(st.DynamoDBURL),
		"PublicBaseUrl": fmt.Sprintf("http://127.0.0.1:%d", port), "TenantLookupEnabled": "true", "TenantLookupBaseUrl": lookupURL,
	})
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
		if v != "" { // sam reads "Key=" as no value; empty parameters keep their empty default
			overrides = append(overrides, k+"="+v)
		}
	}
	sort.Strings(overrides)
	build := exec.CommandContext(ctx, sam, "build", "--build-dir", buildDir, "--parameter-overrides", strings.Join(overrides, " "))
	build.Dir = root
	build.Env = append(os.Environ(), append(buildEnv, "SAM_CLI_TELEMETRY=0")...)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("sam build: %v\n%s", err, out)
	}
	// The binaries sam local runs are built as those make deploy ships.
	check := exec.CommandContext(ctx, "go", "run", "./local/samtemplate/checkbin", "-arch", arch(), buildDir)
	check.Dir = root
	if out, err := check.CombinedOutput(); err != nil {
		return fmt.Errorf("checkbin: %v\n%s", err, out)
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
	s := newSuite(root, awsCfg, res, st.AWSURL)
	s.lookupURL = lookupURL
	return invokeAll(ctx, s, work, sam, common)
}

// buildEnv is the Makefile's SAM_BUILD_ENV: static, -trimpath, without the
// RPC shim, stripped (checkbin verifies the result).
var buildEnv = []string{"CGO_ENABLED=0", "GOFLAGS=-trimpath -tags=lambda.norpc '-ldflags=-s -w'"}

// invokeAll runs every step of the suite (checks.go) in order through sam
// local invoke, and says which failed; a failed step's dependents fail too.
func invokeAll(ctx context.Context, s *suite, work, sam string, common []string) error {
	steps := s.steps()
	failed := 0
	for _, st := range steps {
		started := time.Now()
		out, stdout, stderr, err := s.invoke(ctx, st, work, sam, common)
		if err == nil {
			err = st.ok(ctx, out)
		}
		if err != nil {
			failed++
			fmt.Printf("FAIL sam local invoke %s -e events/%s: %v\n%s\n%s\n", st.function, st.event, err, stdout, stderr)
			continue
		}
		fmt.Printf("ok   sam local invoke %-17s -e events/%-24s %s\n", st.function, st.event, time.Since(started).Round(time.Millisecond))
	}
	fmt.Printf("sam local: %d passed, %d failed\n", len(steps)-failed, failed)
	if failed > 0 {
		return errors.New("sam local invoke failed")
	}
	return nil
}

func (s *suite) invoke(ctx context.Context, st step, work, sam string, common []string) (map[string]any, string, string, error) {
	if st.before != nil {
		if err := st.before(ctx); err != nil {
			return nil, "", "", fmt.Errorf("before: %w", err)
		}
	}
	event, err := s.eventFile(st, work)
	if err != nil {
		return nil, "", "", err
	}
	args := append([]string{"local", "invoke", st.function, "-e", event}, common...)
	cmd := exec.CommandContext(ctx, sam, args...)
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stdout.String(), stderr.String(), err
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(lastJSONLine(stdout.String())), &out); err != nil {
		return nil, stdout.String(), stderr.String(), err
	}
	return out, stdout.String(), stderr.String(), nil
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
