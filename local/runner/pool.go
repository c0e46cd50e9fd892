package runner

import (
	"bytes"
	"context"
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

// ErrFunctionError is returned (wrapped) when the function itself failed
// (RIE answered with an error payload).
var ErrFunctionError = errors.New("function error")

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
func (f *Function) start(ctx context.Context) (*instance, error) {
	in, err := f.spawn()
	if err != nil {
		return nil, err
	}
	if err := f.waitListening(ctx, in); err != nil {
		f.kill(in)
		return nil, err
	}
	return in, nil
}

func (f *Function) spawn() (*instance, error) {
	emu, err := FreePort()
	if err != nil {
		return nil, err
	}
	api, err := FreePort()
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
			return fmt.Errorf("%s: the emulator exited at start", f.Name)
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

// Invoke runs the function with payload and returns its result.
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
	if err != nil {
		// A broken instance is not reused.
		f.kill(in)
		return nil, fmt.Errorf("invoke %s: %w", f.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.kill(in)
		return nil, fmt.Errorf("invoke %s: %w", f.Name, err)
	}
	f.release(in)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" || isErrorPayload(body) {
		return body, fmt.Errorf("%w: %s: %s", ErrFunctionError, f.Name, bytes.TrimSpace(body))
	}
	return body, nil
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
