package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/cpor-claims/claims/local/stack"
	"github.com/google/uuid"
)

// Function runs one function's real binary under AWS's Runtime Interface
// Emulator, as many instances as concurrent invocations need, up to Max
// (Lambda scales out the same way). An instance serves one invocation at a
// time.
type Function struct {
	Name    string
	RIE     string   // path of aws-lambda-rie
	Binary  string   // path of the function's bootstrap
	Env     []string // the function's whole environment
	Max     int
	Timeout time.Duration
	Log     io.Writer
	// StartTimeout bounds how long a new instance may take to listen
	// (0: 10s).
	StartTimeout time.Duration

	mu       sync.Mutex
	idle     []*instance
	all      []*instance
	starting int // instances being started, counted against Max
	freed    chan struct{}
	closed   bool
	client   *http.Client
}

type instance struct {
	cmd  *exec.Cmd
	addr string // the emulator's host:port
	url  string
	done chan struct{}
}

// ErrFunctionError is returned (wrapped, as a *FunctionError) when the
// function itself failed: it returned an error or panicked, its runtime
// exited, or it ran past its timeout. Lambda reports all of these the same
// way: Invoke answers 200 with X-Amz-Function-Error and an error payload,
// API Gateway answers 500, an event source mapping retries the batch.
var ErrFunctionError = errors.New("function error")

// FunctionError is one failed invocation, with the payload Lambda's Invoke
// would return for it ({"errorType","errorMessage",...}).
type FunctionError struct {
	Function string
	Type     string // e.g. Sandbox.Timedout, Runtime.ExitError, or the handler's error type
	Message  string
	Payload  []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s: %s: %s: %s", ErrFunctionError, e.Function, e.Type, e.Message)
}

func (e *FunctionError) Unwrap() error { return ErrFunctionError }

// newFunctionError builds the error and the payload Lambda would return.
func newFunctionError(function, typ, msg string) *FunctionError {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return &FunctionError{Function: function, Type: typ, Message: msg, Payload: b}
}

// rieTimeout is the Runtime Interface Emulator's whole answer (200,
// text/plain) when a function runs past its timeout.
var rieTimeout = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// classify turns the emulator's answer into the function's result or a
// *FunctionError. A result is 200 with a JSON document that is not an error
// payload; anything else (the emulator's timeout text, a 502 for an exited
// runtime, an error payload, a body that is not JSON) is a function error.
func classify(function string, status int, header http.Header, body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if status == http.StatusOK && header.Get("X-Amz-Function-Error") == "" && !isErrorPayload(trimmed) && json.Valid(trimmed) {
		return body, nil
	}
	if rieTimeout.Match(trimmed) {
		return nil, newFunctionError(function, "Sandbox.Timedout", "RequestId: "+uuid.NewString()+" Error: "+string(trimmed))
	}
	var p struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(trimmed, &p) == nil && (p.Type != "" || p.Message != "") {
		return nil, &FunctionError{Function: function, Type: p.Type, Message: p.Message, Payload: trimmed}
	}
	msg := string(trimmed)
	if msg == "" {
		msg = fmt.Sprintf("the emulator answered %d without a body", status)
	}
	return nil, newFunctionError(function, "Runtime.InvalidResponse", msg)
}

func (f *Function) init() {
	if f.freed == nil {
		f.freed = make(chan struct{}, 1)
		f.client = &http.Client{}
		if f.Max < 1 {
			f.Max = 1
		}
	}
}

// Warm starts one instance ahead of the first request.
func (f *Function) Warm(ctx context.Context) error {
	f.mu.Lock()
	f.init()
	f.mu.Unlock()
	in, err := f.start(ctx)
	if err != nil {
		return err
	}
	f.release(in)
	return nil
}

// start starts an instance and waits until it listens. An instance that
// exits or does not listen in time is killed (its whole process group) and
// forgotten: it holds no slot of Max and leaves no process behind.
//
// The emulator's two ports are picked free just before it starts, so
// another process may take one first (the emulator then exits at once:
// "bind: address already in use"); only that case is tried again, on new
// ports, twice at most: an emulator that fails otherwise fails the start.
func (f *Function) start(ctx context.Context) (*instance, error) {
	for attempt := 1; ; attempt++ {
		in, err := f.spawn()
		if err != nil {
			return nil, err
		}
		err = f.waitListening(ctx, in)
		if err == nil {
			return in, nil
		}
		f.kill(in)
		if !errors.Is(err, errExitedAtStart) || attempt == 3 {
			return nil, err
		}
	}
}

// errExitedAtStart: the emulator exited before it listened.
var errExitedAtStart = errors.New("the emulator exited at start")

func (f *Function) spawn() (*instance, error) {
	emu, err := stack.FreePort()
	if err != nil {
		return nil, err
	}
	api, err := stack.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(f.RIE,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(emu),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(api),
		f.Binary)
	cmd.Env = f.Env
	cmd.Stdout, cmd.Stderr = f.Log, f.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", f.Name, err)
	}
	in := &instance{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(emu), done: make(chan struct{})}
	in.url = "http://" + in.addr + "/2015-03-31/functions/function/invocations"
	go func() { _ = cmd.Wait(); close(in.done) }()
	f.mu.Lock()
	f.all = append(f.all, in)
	f.mu.Unlock()
	return in, nil
}

func (f *Function) waitListening(ctx context.Context, in *instance) error {
	limit := f.StartTimeout
	if limit <= 0 {
		limit = 10 * time.Second
	}
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", in.addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-in.done:
			return fmt.Errorf("%s: %w", f.Name, errExitedAtStart)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the emulator did not listen within %s", f.Name, limit)
		}
	}
}

// acquire takes an idle instance, starts one more if all are busy and Max
// allows, or waits for one to be freed.
func (f *Function) acquire(ctx context.Context) (*instance, error) {
	for {
		f.mu.Lock()
		f.init()
		if f.closed {
			f.mu.Unlock()
			return nil, errors.New("runner stopped")
		}
		if n := len(f.idle); n > 0 {
			in := f.idle[n-1]
			f.idle = f.idle[:n-1]
			f.mu.Unlock()
			select {
			case <-in.done:
				f.forget(in)
				continue // it died: take or start another
			default:
				return in, nil
			}
		}
		if len(f.all)+f.starting < f.Max {
			f.starting++ // reserve the slot before unlocking
			f.mu.Unlock()
			in, err := f.start(ctx)
			f.mu.Lock()
			f.starting--
			f.mu.Unlock()
			return in, err
		}
		f.mu.Unlock()
		select {
		case <-f.freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (f *Function) release(in *instance) {
	f.mu.Lock()
	f.idle = append(f.idle, in)
	f.mu.Unlock()
	select {
	case f.freed <- struct{}{}:
	default:
	}
}

func (f *Function) forget(in *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.all {
		if x == in {
			f.all = append(f.all[:i], f.all[i+1:]...)
			break
		}
	}
}

// Invoke runs the function with payload and returns its result. A failed
// invocation is a *FunctionError (errors.Is ErrFunctionError): the
// function's error, its timeout (the emulator's "Task timed out" answer,
// or no answer at all by the timeout and a grace period: the instance is
// then killed) or its instance dying mid-invocation. Any other error (ctx
// done, no instance could start) is not the function's.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	in, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ictx, cancel := context.WithTimeout(ctx, timeout+2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ictx, http.MethodPost, in.url, bytes.NewReader(payload))
	resp, err := f.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		// A broken instance is not reused.
		f.kill(in)
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("invoke %s: %w", f.Name, err)
		case ictx.Err() != nil:
			return nil, newFunctionError(f.Name, "Sandbox.Timedout",
				fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", uuid.NewString(), timeout.Seconds()))
		default:
			return nil, newFunctionError(f.Name, "Runtime.ExitError",
				fmt.Sprintf("RequestId: %s Error: Runtime exited: %v", uuid.NewString(), err))
		}
	}
	f.release(in)
	return classify(f.Name, resp.StatusCode, resp.Header, body)
}

func isErrorPayload(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{"errorMessage"`)) || bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{"errorType"`))
}

func (f *Function) kill(in *instance) {
	_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
	<-in.done
	f.forget(in)
}

// Close stops every instance (the whole process group of each).
func (f *Function) Close() {
	f.mu.Lock()
	f.closed = true
	all := append([]*instance(nil), f.all...)
	f.idle = nil
	f.mu.Unlock()
	for _, in := range all {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
			<-in.done
		}
		f.forget(in)
	}
}

// Instances is how many instances of the function are running.
func (f *Function) Instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.all)
}

// initReport is the emulator's log line closing a function's init phase:
// from the start of the runtime to its first poll of the runtime API.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// lockedBuffer collects an instance's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ColdStart starts a new instance of the function outside its pool (the
// same binary and environment), invokes it once with payload, stops it and
// returns the init duration the emulator reported. A function error is not
// an error here: init is over before the handler runs.
func (f *Function) ColdStart(ctx context.Context, payload []byte) (time.Duration, error) {
	out := &lockedBuffer{}
	fresh := &Function{Name: f.Name, RIE: f.RIE, Binary: f.Binary, Env: f.Env, Max: 1, Timeout: f.Timeout, Log: out}
	defer fresh.Close()
	if _, err := fresh.Invoke(ctx, payload); err != nil && !errors.Is(err, ErrFunctionError) {
		return 0, err
	}
	// The emulator's output reaches the buffer through a pipe: give it a
	// moment to arrive.
	var m []string
	for deadline := time.Now().Add(3 * time.Second); m == nil; {
		if m = initReport.FindStringSubmatch(out.String()); m == nil {
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("%s: the emulator reported no init duration:\n%s", f.Name, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}
