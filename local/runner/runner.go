// Package runner runs the whole bundle on one machine without Docker: it
// stands in for API Gateway (routes and the JWT authorizer, read from
// template.yaml), the SQS event source mapping and EventBridge Scheduler,
// and nothing else. The functions are their real binaries, built as SAM
// builds them and run under AWS's Runtime Interface Emulator.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/identity"
	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/sesmail"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// Config configures a runner.
type Config struct {
	Root string // repository root
	Addr string // listen address, e.g. 127.0.0.1:3000 (port 0: any free port)
	// Listener, when set, is served instead of listening on Addr (a caller
	// that wants the address before Start returns, e.g. to watch health).
	Listener     net.Listener
	JWTSecret    string
	JWTIssuer    string // checked only when set
	JWTAudience  string // checked only when set
	MaxInstances int    // per function (Lambda's scale-out, bounded)
	// ScheduleEvery overrides the schedule's rate (0: the template's; <0: never fires).
	ScheduleEvery time.Duration
	// RetryDelay is how soon a failed message comes back (0: the queue's
	// visibility timeout).
	RetryDelay time.Duration
	// FunctionTimeout shortens (or lengthens) a function's timeout (by
	// logical id) from the template's, e.g. so that a test of a timeout
	// need not wait the template's 10 s. Whole seconds, as Lambda's.
	FunctionTimeout map[string]time.Duration
	// OwnStack starts emulators for this runner alone even when the
	// environment names a shared stack (a test that pauses an emulator
	// must not pause everyone's).
	OwnStack bool
	// Params override template parameters (e.g. TenantLookupBaseUrl, the
	// real identity platform instead of the runner's stand-in, or UiOrigin:
	// the origin CORS allows, for the API and the bucket).
	Params map[string]string
	// Env adds variables to every function's environment; FunctionEnv to
	// one function's (by logical id).
	Env         map[string]string
	FunctionEnv map[string]map[string]string
	Prefix      string // resource name prefix (default "local")
	Log         io.Writer
}

// Runner is the running bundle.
type Runner struct {
	cfg       Config
	tmpl      *samtemplate.Template
	stack     *stack.Stack
	res       *stack.Resources
	functions map[string]*Function
	routes    []*Route
	cors      *CORS
	auth      *Authorizer
	srv       *http.Server
	ln        net.Listener
	url       string
	binDir    string
	ready     atomic.Bool  // set once all is started; only then ServeHTTP reads the rest
	stage     atomic.Value // string: what the runner is starting while not ready
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	log       *slog.Logger
	closeOnce sync.Once
	tap       *eventsTap // GET /_local/events
	// dir is the stand-in of the identity platform's discovery endpoint,
	// served on its own port (dirURL); the tenant lookup points there.
	dir    *identity.Directory
	dirSrv *http.Server
	dirURL string
}

// PollerReadyTimeout bounds how long Start waits for the queue poller's
// first successful receive.
const PollerReadyTimeout = 30 * time.Second

// Start serves at once (GET /_local/health answers 503, every other
// request the gateway's 503, until ready), then builds the functions,
// starts the stack (or uses the one the environment names), provisions the
// template's resources, starts every function once and the event sources,
// and returns once the queue poller has received from the queue for the
// first time: from then on health answers 200.
func Start(ctx context.Context, cfg Config) (_ *Runner, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.JWTSecret == "" {
		cfg.JWTSecret = DefaultJWTSecret
	}
	if cfg.MaxInstances < 1 {
		cfg.MaxInstances = 4
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "local"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:3000"
	}
	r := &Runner{cfg: cfg, functions: map[string]*Function{}, log: slog.New(slog.NewTextHandler(cfg.Log, nil)),
		auth: &Authorizer{Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.tmpl, err = samtemplate.Load(filepath.Join(cfg.Root, "template.yaml")); err != nil {
		return nil, err
	}
	r.stage.Store("listening")
	if r.ln = cfg.Listener; r.ln == nil {
		if r.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	r.url = "http://" + r.ln.Addr().String()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(r.ln) }()
	if err := r.startDirectory(); err != nil {
		return nil, err
	}
	r.stage.Store("building the functions")
	if err := r.build(ctx); err != nil {
		return nil, err
	}
	r.stage.Store("starting the stack and creating the template's resources")
	if err := r.startStack(ctx); err != nil {
		return nil, err
	}
	if r.cors, err = LoadCORS(r.tmpl, r.res.Refs); err != nil {
		return nil, err
	}
	r.stage.Store("starting the functions")
	if err := r.startFunctions(ctx); err != nil {
		return nil, err
	}
	r.stage.Store("waiting for the queue poller's first receive")
	bg, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	pollers, err := r.startEventSources(bg)
	if err != nil {
		return nil, err
	}
	streams, err := r.startStreams(bg)
	if err != nil {
		return nil, err
	}
	pollers = append(pollers, streams...)
	timeout := time.NewTimer(PollerReadyTimeout)
	defer timeout.Stop()
	for _, p := range pollers {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, fmt.Errorf("the queue poller of %s received nothing from %s within %s (see the log)", p.function, p.queue, PollerReadyTimeout)
		}
	}
	r.ready.Store(true)
	return r, nil
}

// Ready reports whether the stack, the functions and the queue pollers are
// all ready (what GET /_local/health answers).
func (r *Runner) Ready() bool { return r.ready.Load() }

// pollerStart is a started poller and the signal of its first receive.
type pollerStart struct {
	function, queue string
	ready           chan struct{}
}

// URL is where the runner serves.
func (r *Runner) URL() string { return r.url }

// Resources are the local resources the functions use.
func (r *Runner) Resources() *stack.Resources { return r.res }

// Stack is the emulators the runner's functions use (a shared stack's
// endpoints only, unless the runner started its own).
func (r *Runner) Stack() *stack.Stack { return r.stack }

// Authorizer signs and checks local tokens.
func (r *Runner) Authorizer() *Authorizer { return r.auth }

// Routes lists the API routes served ("METHOD /path"), sorted.
func (r *Runner) Routes() []string {
	var keys []string
	for _, rt := range r.routes {
		keys = append(keys, rt.RouteKey())
	}
	sort.Strings(keys)
	return keys
}

// build compiles every function as sam build does (static, stripped,
// lambda.norpc), for this host's architecture (the emulator runs it).
func (r *Runner) build(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "claims-runner-bin-")
	if err != nil {
		return err
	}
	r.binDir = dir
	var pkgs []string
	for _, f := range r.tmpl.Functions() {
		pkgs = append(pkgs, "./"+strings.Trim(f.CodeURI, "/"))
	}
	return goBuild(ctx, r.cfg.Root, "", dir+"/", pkgs...)
}

// LambdaBuildFlags are the flags every function binary is built with, here
// and by sam build (through GOFLAGS): static (CGO_ENABLED=0 in the
// environment), without the RPC shim, without file system paths, stripped.
var LambdaBuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// BuildFunction compiles the function in codeURI (relative to root) for
// GOARCH arch (empty: this host's) into out, as sam build does.
func BuildFunction(ctx context.Context, root, codeURI, arch, out string) error {
	return goBuild(ctx, root, arch, out, "./"+strings.Trim(codeURI, "/"))
}

func goBuild(ctx context.Context, root, arch, out string, pkgs ...string) error {
	args := append(append([]string{"build"}, LambdaBuildFlags...), "-o", out)
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+arch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build functions: %v\n%s", err, out)
	}
	return nil
}

func (r *Runner) startStack(ctx context.Context) error {
	opts := stack.Options{Root: r.cfg.Root, Log: r.cfg.Log, ExternalAWS: os.Getenv("CLAIMS_EXTERNAL_AWS_ENDPOINT")}
	if os.Getenv("CLAIMS_STACK_SHARED") == "1" && !r.cfg.OwnStack {
		opts.ExternalAWS, opts.ExternalDynamoDB = os.Getenv("AWS_ENDPOINT_URL"), os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	st, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	r.stack = st
	st.Setenv()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	// The tenant/domain check is on, as deployed, against the stand-in
	// (Params may point it at the real identity platform instead).
	params := map[string]string{"PublicBaseUrl": r.url, "TenantLookupEnabled": "true", "TenantLookupBaseUrl": r.dirURL, "Architecture": hostArch()}
	for k, v := range r.cfg.Params {
		params[k] = v
	}
	r.res, err = stack.Provision(ctx, awsCfg, r.tmpl, r.cfg.Prefix, params)
	return err
}

// startDirectory serves the identity platform's stand-in on a port of its
// own (loopback, any free port).
func (r *Runner) startDirectory() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("identity platform stand-in: %w", err)
	}
	r.dir = identity.New()
	r.dirURL = "http://" + ln.Addr().String()
	r.dirSrv = &http.Server{Handler: r.dir, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.dirSrv.Serve(ln) }()
	return nil
}

// Directory is the identity platform's stand-in (domain -> tenant).
func (r *Runner) Directory() *identity.Directory { return r.dir }

// DirectoryURL is the stand-in's base URL (the functions'
// TENANT_LOOKUP_BASE_URL unless Params name another).
func (r *Runner) DirectoryURL() string { return r.dirURL }

func hostArch() string {
	if out, err := exec.Command("uname", "-m").Output(); err == nil && strings.TrimSpace(string(out)) == "aarch64" {
		return "arm64"
	}
	return "x86_64"
}

func (r *Runner) startFunctions(ctx context.Context) error {
	rie, err := stack.RIE(r.cfg.Root)
	if err != nil {
		return err
	}
	for _, f := range r.tmpl.Functions() {
		timeout := f.Timeout
		if d, ok := r.cfg.FunctionTimeout[f.ID]; ok {
			timeout = max(1, int((d+time.Second-1)/time.Second))
		}
		env := append([]string(nil), r.stack.Env()...)
		env = append(env, "PATH="+os.Getenv("PATH"), "HOME="+os.TempDir(),
			"AWS_LAMBDA_FUNCTION_NAME="+f.ID, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout),
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.MemorySize), "AWS_LAMBDA_FUNCTION_VERSION=$LATEST")
		if ca := os.Getenv("AWS_CA_BUNDLE"); ca != "" {
			env = append(env, "AWS_CA_BUNDLE="+ca)
		}
		names := make([]string, 0, len(f.Environment))
		for k := range f.Environment {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, err := r.tmpl.ResolveIn(f.Environment[k], r.res.Refs)
			if errors.Is(err, samtemplate.ErrNoValue) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%s environment %s: %w", f.ID, k, err)
			}
			env = append(env, k+"="+v)
		}
		for _, extra := range []map[string]string{r.cfg.Env, r.cfg.FunctionEnv[f.ID]} {
			for k, v := range extra {
				env = append(env, k+"="+v)
			}
		}
		fn := &Function{Name: f.ID, RIE: rie, Binary: filepath.Join(r.binDir, filepath.Base(strings.Trim(f.CodeURI, "/"))),
			Env: env, Max: r.cfg.MaxInstances, Timeout: time.Duration(timeout) * time.Second, Log: r.cfg.Log}
		r.functions[f.ID] = fn
		if err := fn.Warm(ctx); err != nil {
			return err
		}
		for _, rt := range f.Routes {
			r.routes = append(r.routes, &Route{Method: rt.Method, Path: rt.Path, Function: f.ID, Auth: rt.Auth})
		}
	}
	// Literal segments win over parameters ("/claims/{id}" after "/claims").
	sort.SliceStable(r.routes, func(i, j int) bool { return r.routes[i].Path < r.routes[j].Path })
	return nil
}

func (r *Runner) startEventSources(ctx context.Context) ([]pollerStart, error) {
	sqsClient := awsclient.SQS(mustConfig(ctx))
	var pollers []pollerStart
	for _, f := range r.tmpl.Functions() {
		fn := r.functions[f.ID]
		if q := f.Queue; q != nil {
			ps := pollerStart{function: f.ID, queue: r.res.Refs[q.Queue], ready: make(chan struct{})}
			pollers = append(pollers, ps)
			retryDelay := r.cfg.RetryDelay
			if r.tmpl.Grants(f.ID, "sqs:ChangeMessageVisibility") {
				// The function sets a failed message's delay itself (as
				// the webhook deliverer does): the poller leaves it.
				retryDelay = 0
			}
			p := &Poller{SQS: sqsClient, QueueURL: ps.queue, QueueARN: r.res.Refs[q.Queue+".Arn"], Region: stack.Region,
				BatchSize: q.BatchSize, RetryDelay: retryDelay, Invoke: fn.Invoke, Log: r.log.With("function", f.ID),
				Ready: func() { close(ps.ready) }}
			r.wg.Add(1)
			go func() { defer r.wg.Done(); p.Run(ctx) }()
		}
		if s := f.Schedule; s != nil {
			every := r.cfg.ScheduleEvery
			if every == 0 {
				d, err := RateInterval(s.Expression)
				if err != nil {
					return nil, err
				}
				every = d
			}
			if every > 0 {
				r.wg.Add(1)
				go func() { defer r.wg.Done(); r.schedule(ctx, fn, every) }()
			}
		}
	}
	return pollers, nil
}

func mustConfig(ctx context.Context) aws.Config {
	cfg, _ := config.LoadDefaultConfig(ctx)
	return cfg
}

func (r *Runner) schedule(ctx context.Context, fn *Function, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := fn.Invoke(ctx, ScheduledEvent(now, stack.Region, "arn:aws:scheduler:"+stack.Region+":000000000000:schedule/default/"+r.cfg.Prefix+"-finalize")); err != nil && ctx.Err() == nil {
				r.log.Error("scheduled run failed", "function", fn.Name, "error", err)
			}
		}
	}
}

// Close stops everything the runner started.
func (r *Runner) Close() {
	r.closeOnce.Do(func() {
		r.stage.Store("stopping")
		r.ready.Store(false)
		if r.cancel != nil {
			r.cancel()
		}
		if r.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = r.srv.Shutdown(ctx)
			cancel()
		} else if r.ln != nil {
			r.ln.Close()
		}
		r.wg.Wait()
		if r.dirSrv != nil {
			_ = r.dirSrv.Close()
		}
		for _, f := range r.functions {
			f.Close()
		}
		if r.stack != nil {
			r.stack.Stop()
		}
		if r.binDir != "" {
			os.RemoveAll(r.binDir)
		}
	})
}

// ServeHTTP is the gateway. Until the runner is ready only health
// answers (503); everything else gets the gateway's 503.
func (r *Runner) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/_local/health" {
		r.health(w)
		return
	}
	if !r.ready.Load() {
		w.Header().Set("Retry-After", "1")
		gatewayMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	switch {
	case req.URL.Path == "/_local/emails" && req.Method == http.MethodGet:
		r.emails(w, req)
	case req.URL.Path == "/_local/events":
		r.localEvents(w, req)
	case req.URL.Path == identity.LocalPrefix || strings.HasPrefix(req.URL.Path, identity.LocalPrefix+"/"):
		r.dir.ServeLocal(w, req)
	case req.URL.Path == "/_local/openapi.yaml" && req.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/yaml")
		http.ServeFile(w, req, filepath.Join(r.cfg.Root, "docs", "openapi.yaml"))
	case strings.HasPrefix(req.URL.Path, "/2015-03-31/functions/"):
		r.invocation(w, req)
	case r.cors != nil && isPreflight(req):
		r.cors.preflight(w, req)
	default:
		r.api(r.cors.wrap(w, req), req)
	}
}

// gatewayMessage is an answer of the gateway itself, byte for byte as API
// Gateway writes it: {"message":"..."} without a trailing newline.
func gatewayMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// maxPayload is API Gateway HTTP API's request payload limit.
const maxPayload = 10 << 20

func (r *Runner) api(w http.ResponseWriter, req *http.Request) {
	route, params := findRoute(r.routes, req.Method, req.URL.Path)
	if route == nil {
		gatewayMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	var claims map[string]string
	if route.Auth {
		c, err := r.auth.Authorize(req.Header.Get("Authorization"))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			gatewayMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		claims = c
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxPayload+1))
	if err != nil {
		gatewayMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxPayload {
		gatewayMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := toEvent(req, body, route, params, claims, time.Now())
	payload, _ := json.Marshal(ev)
	result, err := r.functions[route.Function].Invoke(req.Context(), payload)
	if err != nil {
		r.log.Error("function failed", "function", route.Function, "route", route.RouteKey(), "error", err)
		gatewayMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResult(w, result); err != nil {
		r.log.Error("bad function response", "function", route.Function, "error", err)
		gatewayMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// invocation is Lambda's Invoke API for any function of the template (as
// sam local start-lambda serves it).
func (r *Runner) invocation(w http.ResponseWriter, req *http.Request) {
	rest := strings.TrimPrefix(req.URL.Path, "/2015-03-31/functions/")
	name, tail, _ := strings.Cut(rest, "/")
	fn, ok := r.functions[name]
	if req.Method != http.MethodPost || tail != "invocations" || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"Type": "User", "Message": "Function not found: " + name})
		return
	}
	payload, err := io.ReadAll(io.LimitReader(req.Body, 6<<20))
	if err != nil {
		gatewayMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	result, err := fn.Invoke(req.Context(), payload)
	var fe *FunctionError
	if errors.As(err, &fe) {
		// As Lambda's Invoke: 200, X-Amz-Function-Error, the error payload
		// (a timeout included: {"errorType":"Sandbox.Timedout",...}).
		r.log.Error("function failed", "function", name, "error", err)
		result = fe.Payload
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	} else if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"Type": "Service", "Message": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(result)
}

func (r *Runner) health(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	if !r.ready.Load() {
		stage, _ := r.stage.Load().(string)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting", "stage": stage})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "functions": len(r.functions), "routes": len(r.routes)})
}

func (r *Runner) emails(w http.ResponseWriter, req *http.Request) {
	all, err := sesmail.Fetch(req.Context(), r.stack.AWSURL)
	if err != nil {
		gatewayMessage(w, http.StatusBadGateway, err.Error())
		return
	}
	if all == nil {
		all = []sesmail.Email{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": all})
}

// Instances is how many instances of a function (logical id) are running.
func (r *Runner) Instances(id string) int {
	if f, ok := r.functions[id]; ok {
		return f.Instances()
	}
	return 0
}

// ColdStart measures one cold start of function id (a logical id): see
// Function.ColdStart.
func (r *Runner) ColdStart(ctx context.Context, id string, payload []byte) (time.Duration, error) {
	f, ok := r.functions[id]
	if !ok {
		return 0, fmt.Errorf("no function %s", id)
	}
	return f.ColdStart(ctx, payload)
}

// Binary is the path of function id's binary as the runner built it.
func (r *Runner) Binary(id string) string {
	if f, ok := r.functions[id]; ok {
		return f.Binary
	}
	return ""
}
