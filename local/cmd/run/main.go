// Command run is `make run`: the whole bundle on one machine (see
// local/runner). Ctrl-C stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/stack"
)

func main() { os.Exit(run()) }

func run() int {
	port := 3000
	if p, err := strconv.Atoi(os.Getenv("PORT")); err == nil {
		port = p
	}
	flag.IntVar(&port, "port", port, "port to serve on (127.0.0.1); 0 picks a free one")
	maxInst := flag.Int("max-instances", 4, "instances per function when requests overlap")
	every := flag.Duration("schedule-every", time.Minute, "how often the finalize schedule fires locally (0: the template's rate)")
	lookup := flag.String("tenant-lookup", "local", "where the validation worker resolves domains to tenants: local (the runner's stand-in, seeded with the README's sample tenants; PUT /_local/directory/{domain} adds one) or microsoft (the real identity platform, needs internet)")
	origin := flag.String("ui-origin", os.Getenv("UI_ORIGIN"), "the partner UI's origin that CORS allows, for the API and the evidence bucket (default: the UiOrigin parameter's local value)")
	flag.Parse()

	root, err := stack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	secret := os.Getenv("LOCAL_JWT_SECRET")
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-sigs; cancel() }()

	// Listening here, before Start, gives the real address at once (port 0).
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "make run: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "starting on http://%s (GET /_local/health answers 503 until ready): building the functions, starting DynamoDB Local and LocalStack ...\n", ln.Addr())
	started := time.Now()
	params := map[string]string{}
	switch *lookup {
	case "local":
	case "microsoft":
		params["TenantLookupBaseUrl"] = "https://login.microsoftonline.com"
	default:
		fmt.Fprintf(os.Stderr, "make run: -tenant-lookup=%s: want local or microsoft\n", *lookup)
		return 2
	}
	if *origin != "" {
		params["UiOrigin"] = *origin
	}
	r, err := runner.Start(ctx, runner.Config{
		Root: root, Listener: ln, JWTSecret: secret,
		JWTIssuer: os.Getenv("LOCAL_JWT_ISSUER"), JWTAudience: os.Getenv("LOCAL_JWT_AUDIENCE"),
		MaxInstances: *maxInst, ScheduleEvery: *every, Log: os.Stderr, Params: params,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "make run failed: %v\n", err)
		return 1
	}
	defer r.Close()
	token, _ := r.Authorizer().Token(runner.SampleClaims(time.Now()))
	fmt.Printf(`
CPOR claims API ready in %s on %s
  routes:        %d (from template.yaml), OpenAPI at %s/_local/openapi.yaml
  CORS origin:   %s (-ui-origin or UI_ORIGIN to change it)
  emails sent:   %s/_local/emails
  health:        %s/_local/health
  functions:     %s/2015-03-31/functions/{LogicalId}/invocations
  finalize:      fires every %s on this clock
`, time.Since(started).Round(time.Millisecond), r.URL(), len(r.Routes()), r.URL(), r.Resources().Refs["UiOrigin"], r.URL(), r.URL(), r.URL(), *every)
	if *lookup == "microsoft" {
		fmt.Println("  tenant lookup: the real identity platform (login.microsoftonline.com)")
	} else {
		fmt.Printf("  tenant lookup: ON, against the local stand-in at %s; GET %s/_local/directory lists its tenants, PUT %s/_local/directory/{domain} {\"tenantId\":\"GUID\"} adds one\n", r.DirectoryURL(), r.URL(), r.URL())
	}
	fmt.Printf(`
Try it (a token for a sample partner admin; make token prints another):
  TOKEN=%s
  curl -s -H "Authorization: Bearer $TOKEN" %s/products
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"mpnId":"1234567","customer":{"tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","domain":"contoso.onmicrosoft.com"},"solutionArea":"Microsoft365","activity":"Usage"}' \
    %s/claims

Ctrl-C stops everything.
`, token, r.URL(), r.URL())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping ...")
	return 0
}
