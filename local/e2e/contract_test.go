package e2e_test

// Contract rules of API.md that cut across routes, over HTTP through the
// real binaries: who may claim for which MPN ID, the order in which a
// write route refuses a request, query strings and body sizes on every
// route, racing writers, respond-by deadlines, and a discarded draft's
// files.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/store"
)

// tokenWith signs the sample admin's claims of partner, changed by edit.
func tokenWith(t *testing.T, partner string, edit func(map[string]any)) apitest.User {
	t.Helper()
	c := runner.SampleClaims(time.Now())
	c["partner_id"], c["sub"] = partner, "user@"+partner+".example"
	edit(c)
	tok, err := rt.Authorizer().Token(c)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.User{Partner: partner, Token: tok}
}

// apiRoutes are the template's partner routes (the customer's routes have
// no authorizer and answer HTML).
func apiRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range rt.Routes() {
		if _, path, _ := strings.Cut(r, " "); !apitest.CustomerRoute(path) {
			out = append(out, r)
		}
	}
	if len(out) < 13 {
		t.Fatalf("routes %v", out)
	}
	return out
}

func claimsFor(t *testing.T, u *apitest.User, tenantID string) int {
	t.Helper()
	return len(apitest.Expect(t, apitest.Call(t, u, "GET", "/claims?limit=100&tenantId="+tenantID, nil), 200).JSON(t)["items"].([]any))
}

func tenantOf(body map[string]any) string {
	return body["customer"].(map[string]any)["tenantId"].(string)
}

// A token without mpn_ids (or with an empty list) claims for no MPN ID:
// 422 invalid_input on mpnId, and nothing is written.
func TestCallerWithoutMPNIDsClaimsForNone(t *testing.T) {
	partner := fmt.Sprintf("no-mpn-%d", time.Now().UnixNano())
	owner := apitest.NewUser(t, partner, true)
	draft := apitest.CreateClaim(t, &owner, false)
	for name, edit := range map[string]func(map[string]any){
		"no mpn_ids claim":   func(c map[string]any) { delete(c, "mpn_ids") },
		"empty list":         func(c map[string]any) { c["mpn_ids"] = []any{} },
		"empty string":       func(c map[string]any) { c["mpn_ids"] = "" },
		"empty JSON text":    func(c map[string]any) { c["mpn_ids"] = "[]" },
		"blank list members": func(c map[string]any) { c["mpn_ids"] = []any{"", " "} },
	} {
		t.Run(name, func(t *testing.T) {
			u := tokenWith(t, partner, edit)
			body := apitest.DraftBody(false)
			r := apitest.Call(t, &u, "POST", "/claims", body)
			if r.Status != 422 || r.Code(t) != "invalid_input" || !slices.Equal(r.Fields(t), []string{"mpnId"}) {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			if n := claimsFor(t, &owner, tenantOf(body)); n != 0 {
				t.Fatalf("%d claims created", n)
			}
			// Editing a Draft needs its MPN ID among the editor's: 403.
			r = apitest.Call(t, &u, "PATCH", "/claims/"+draft, map[string]any{"name": "renamed"})
			if r.Status != 403 || r.Code(t) != "forbidden" {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			// Reads still work: the token is a valid user of the partner.
			apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+draft, nil), 200)
		})
	}
	if c := apitest.Expect(t, apitest.Call(t, &owner, "GET", "/claims/"+draft, nil), 200).JSON(t); c["version"].(float64) != 1 {
		t.Fatalf("the draft changed: %v", c)
	}
}

// The same Idempotency-Key raced with two different bodies: one claim per
// key; a request gets that claim back only when its body is the one that
// won, and 409 idempotency_conflict otherwise. Nothing else (no 500, no
// concurrent_update) is an answer.
func TestRacingIdempotencyKeyWithDifferentBodies(t *testing.T) {
	u := apitest.NewUser(t, fmt.Sprintf("idem-race-%d", time.Now().UnixNano()), true)
	const rounds, racers = 5, 8
	for round := range rounds {
		key := fmt.Sprintf("race-%d-%d", round, time.Now().UnixNano())
		bodies := []map[string]any{apitest.DraftBody(false), apitest.DraftBody(false)}
		type answer struct {
			body   int
			status int
			code   string
			id     string
			tenant string
		}
		answers := make([]answer, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := apitest.Call(t, &u, "POST", "/claims", bodies[i%2], "Idempotency-Key", key)
				a := answer{body: i % 2, status: r.Status}
				if r.Status == 201 {
					c := r.JSON(t)
					a.id, a.tenant = c["id"].(string), c["customer"].(map[string]any)["tenantId"].(string)
				} else if r.Header.Get("Content-Type") == "application/problem+json" {
					a.code = r.Code(t)
				}
				answers[i] = a
			}()
		}
		close(start)
		wg.Wait()
		var winner string
		winnerBody := -1
		for _, a := range answers {
			if a.status == 201 {
				if winner != "" && a.id != winner {
					t.Fatalf("round %d: two claims for one key: %+v", round, answers)
				}
				winner, winnerBody = a.id, a.body
			}
		}
		if winner == "" {
			t.Fatalf("round %d: no request created the claim: %+v", round, answers)
		}
		for _, a := range answers {
			switch {
			case a.status == 201 && a.body == winnerBody && a.tenant == tenantOf(bodies[winnerBody]):
			case a.status == 409 && a.code == "idempotency_conflict" && a.body != winnerBody:
			default:
				t.Errorf("round %d: body %d got %d %s (winner: body %d): %+v", round, a.body, a.status, a.code, winnerBody, answers)
			}
		}
		if n, m := claimsFor(t, &u, tenantOf(bodies[0])), claimsFor(t, &u, tenantOf(bodies[1])); n+m != 1 {
			t.Fatalf("round %d: %d + %d claims for one key", round, n, m)
		}
	}
}

// Every route refuses a query parameter it does not take (400
// invalid_input naming it), before doing anything.
func TestUnknownQueryParametersOnEveryRoute(t *testing.T) {
	owner := apitest.NewUser(t, "query-owner", true)
	for _, route := range apiRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			id := apitest.CreateClaim(t, &owner, false)
			p := routePath(t, &owner, path, id)
			body := bodyFor(route)
			r := apitest.Call(t, &owner, method, p+"?unknownParam=1", body)
			if r.Status != 400 || r.Code(t) != "invalid_input" || !slices.Contains(r.Fields(t), "unknownParam") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if c := apitest.Expect(t, apitest.Call(t, &owner, "GET", "/claims/"+id, nil), 200).JSON(t); c["version"].(float64) != 1 {
				t.Fatalf("the refused request changed the claim: %v", c)
			}
			if route == "POST /claims" {
				if n := claimsFor(t, &owner, tenantOf(body.(map[string]any))); n != 0 {
					t.Fatalf("the refused create made %d claims", n)
				}
			}
		})
	}
}

// A write route answers, in this order: 401 (no token), 403 (not an
// IncentivesAdmin), 404 (not the caller's partner's claim), and only then
// anything about the request's input (400, 413, 415, 422). A reader or a
// stranger learns nothing from a bad body.
func TestWriteRoutesAuthorizeBeforeReadingInput(t *testing.T) {
	owner := apitest.NewUser(t, "order-owner", true)
	reader := apitest.NewUser(t, "order-owner", false)
	stranger := apitest.NewUser(t, "order-stranger", true)
	huge := `{"comments":"` + strings.Repeat("x", 70<<10) + `"}`
	bad := []struct {
		name, query, body string
		headers           []string
	}{
		{"malformed JSON", "", `{"name":`, nil},
		{"unknown field", "", `{"nope":1}`, nil},
		{"wrong type", "", `{"name":5,"fileName":5,"comment":5,"reason":5}`, nil},
		{"empty strings", "", `{"name":"","fileName":"","comment":"","reason":"","mpnId":""}`, nil},
		{"too large", "", huge, nil},
		{"not JSON", "", "x=1", []string{"Content-Type", "text/plain"}},
		{"unknown query parameter", "?x=1", "", nil},
		{"bad If-Match", "", `{"name":"x"}`, []string{"If-Match", "not-a-version"}},
	}
	for _, route := range apiRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		if method == "GET" {
			continue
		}
		t.Run(route, func(t *testing.T) {
			id := apitest.CreateClaim(t, &owner, false)
			p := routePath(t, &owner, path, id)
			for _, b := range bad {
				var body any
				if b.body != "" {
					body = b.body
				}
				if r := apitest.Call(t, &reader, method, p+b.query, body, b.headers...); r.Status != 403 || r.Code(t) != "forbidden" {
					t.Errorf("reader, %s: %d %s", b.name, r.Status, r.Body)
				}
				if strings.Contains(path, "{id}") {
					if r := apitest.Call(t, &stranger, method, p+b.query, body, b.headers...); r.Status != 404 || r.Code(t) != "not_found" {
						t.Errorf("other partner, %s: %d %s", b.name, r.Status, r.Body)
					}
				}
			}
			// The owner is told what is wrong (the rules above are not
			// vacuous): a bad body on every route that reads one, the
			// query string on every route.
			if r := apitest.Call(t, &owner, method, p+"?x=1", nil); r.Status != 400 {
				t.Errorf("owner, unknown query parameter: %d %s", r.Status, r.Body)
			}
			if method != "DELETE" {
				if r := apitest.Call(t, &owner, method, p, `{"name":`); r.Status != 400 || r.Code(t) != "invalid_input" {
					t.Errorf("owner, malformed JSON: %d %s", r.Status, r.Body)
				}
			}
			if c := apitest.Expect(t, apitest.Call(t, &owner, "GET", "/claims/"+id, nil), 200).JSON(t); c["version"].(float64) != 1 {
				t.Fatalf("a refused request changed the claim: %v", c)
			}
		})
	}
}

// Every route that takes a body answers 413 payload_too_large past 64 KiB,
// and changes nothing.
func TestPayloadTooLargeOnEveryBodyRoute(t *testing.T) {
	u := apitest.NewUser(t, "big-bodies", true)
	for _, route := range apiRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		if method == "GET" || method == "DELETE" {
			continue
		}
		t.Run(route, func(t *testing.T) {
			id := apitest.CreateClaim(t, &u, false)
			p := routePath(t, &u, path, id)
			for _, field := range []string{"comments", "comment", "reason", "fileName"} {
				huge := `{"` + field + `":"` + strings.Repeat("x", 65<<10) + `"}`
				if r := apitest.Call(t, &u, method, p, huge); r.Status != 413 || r.Code(t) != "payload_too_large" {
					t.Errorf("%s of 65 KiB: %d %.200s", field, r.Status, r.Body)
				}
			}
			if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t); c["version"].(float64) != 1 {
				t.Fatalf("a refused request changed the claim: %v", c)
			}
		})
	}
}

// Concurrent PATCHes pinned with If-Match: per version exactly one
// succeeds and the others get 412 version_mismatch (a racing writer that
// had not committed is no mismatch); the winner's change is the one kept,
// and no success is lost.
func TestIfMatchRacesFailOnlyOnARealMismatch(t *testing.T) {
	u := apitest.NewUser(t, "if-match-race", true)
	id := apitest.CreateClaim(t, &u, false)
	const rounds, racers = 5, 6
	for v := 1; v <= rounds; v++ {
		statuses := make([]int, racers)
		codes := make([]string, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := apitest.Call(t, &u, "PATCH", "/claims/"+id, map[string]any{"name": fmt.Sprintf("v%d-w%d", v, i)}, "If-Match", fmt.Sprintf(`"%d"`, v))
				statuses[i] = r.Status
				if r.Status == 200 {
					if got := r.JSON(t)["version"].(float64); got != float64(v+1) {
						t.Errorf("round %d: success at version %v", v, got)
					}
				} else if r.Header.Get("Content-Type") == "application/problem+json" {
					codes[i] = r.Code(t)
				}
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, s := range statuses {
			switch {
			case s == 200 && winner == -1:
				winner = i
			case s == 200:
				t.Fatalf("round %d: two PATCHes won one version: %v", v, statuses)
			case s != 412 || codes[i] != "version_mismatch":
				t.Fatalf("round %d: %d %s, want 200 or 412 version_mismatch: %v %v", v, s, codes[i], statuses, codes)
			}
		}
		if winner == -1 {
			t.Fatalf("round %d: every PATCH refused although version %d was current: %v %v", v, v, statuses, codes)
		}
		c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)
		if c["version"].(float64) != float64(v+1) || c["name"] != fmt.Sprintf("v%d-w%d", v, winner) {
			t.Fatalf("round %d: claim %v %v, want the winner's v%d-w%d", v, c["version"], c["name"], v, winner)
		}
	}
	if got := historyOf(t, &u, id); got != "created:partner"+strings.Repeat(",updated:partner", rounds) {
		t.Fatalf("history %s", got)
	}
}

// A claim moved to NeedsInfo by the worker, whose respondBy has passed
// (the scheduled run has not rejected it yet): respond is 409
// invalid_transition and evidence 409 claim_locked. Before respondBy both
// are accepted.
func TestRespondByIsTheLastMoment(t *testing.T) {
	u := apitest.NewUser(t, "late-responder", true)
	id := apitest.CreateClaim(t, &u, true)
	submitWith(t, &u, id, []byte("\x89PNG\r\n\x1a\n not the declared PDF"))
	apitest.WaitStatus(t, &u, id, "NeedsInfo")

	moveRespondBy(t, id, time.Now().Add(-time.Second))
	if r := apitest.Call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "late.pdf", "contentType": "application/pdf", "size": 10}); r.Status != 409 || r.Code(t) != "claim_locked" {
		t.Fatalf("evidence after respondBy: %d %s", r.Status, r.Body)
	}
	if r := apitest.Call(t, &u, "POST", "/claims/"+id+"/respond", map[string]any{"comment": "late"}); r.Status != 409 || r.Code(t) != "invalid_transition" {
		t.Fatalf("respond after respondBy: %d %s", r.Status, r.Body)
	}
	late := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)
	if late["status"] != "NeedsInfo" || len(late["evidence"].([]any)) != 1 {
		t.Fatalf("the late requests changed the claim: %v", late)
	}

	moveRespondBy(t, id, time.Now().Add(time.Hour))
	apitest.Upload(t, &u, id, apitest.PDF)
	c := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/respond", map[string]any{"comment": "in time"}), 202).JSON(t)
	if c["status"] != "Submitted" {
		t.Fatalf("respond in time: %v", c)
	}
}

// moveRespondBy sets a NeedsInfo claim's respond-by date through the store,
// as a renewed information request would (one transaction with its
// history event, the due index kept in step).
func moveRespondBy(t *testing.T, id string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	st := store.New(awsclient.DynamoDB(testenv.AWSConfig(t)), rt.Resources().TableName)
	c, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != claim.StatusNeedsInfo {
		t.Fatalf("claim is %s", c.Status)
	}
	next := *c
	at = at.UTC()
	next.RespondBy = &at
	ev := claim.Touch(&next, claim.ActionMoreInfoRequested, claim.Actor{Type: claim.ActorSystem, ID: "test"}, time.Now().Add(-2*time.Second), map[string]string{"respondBy": at.Format(time.RFC3339)})
	if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
}

// DELETE of a Draft removes its evidence objects from the bucket; a claim
// that may not be deleted keeps its files.
func TestDeleteDraftRemovesItsEvidenceObjects(t *testing.T) {
	ctx := context.Background()
	u := apitest.NewUser(t, "discarder", true)
	s3c := awsclient.S3(testenv.AWSConfig(t))
	bucket := rt.Resources().BucketName
	exists := func(key string) bool {
		t.Helper()
		_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		var nf *s3types.NotFound
		var ae smithy.APIError
		switch {
		case err == nil:
			return true
		case errors.As(err, &nf), errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey"):
			return false
		}
		t.Fatalf("head %s: %v", key, err)
		return false
	}
	id := apitest.CreateClaim(t, &u, true)
	var keys []string
	for range 2 {
		keys = append(keys, evidence.Key(id, apitest.Upload(t, &u, id, apitest.PDF)["id"].(string)))
	}
	// An evidence added but never uploaded has no object: nothing to fail on.
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "never.pdf", "contentType": "application/pdf", "size": 10}), 201)
	for _, k := range keys {
		if !exists(k) {
			t.Fatalf("%s not uploaded", k)
		}
	}
	apitest.Expect(t, apitest.Call(t, &u, "DELETE", "/claims/"+id, nil), 204)
	for _, k := range keys {
		if exists(k) {
			t.Errorf("%s left in the bucket after its draft was discarded", k)
		}
	}
	// A submitted claim is not discarded, nor are its files.
	sid := apitest.CreateClaim(t, &u, true)
	key := evidence.Key(sid, apitest.Upload(t, &u, sid, apitest.PDF)["id"].(string))
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+sid+"/submit", nil), 202)
	if r := apitest.Call(t, &u, "DELETE", "/claims/"+sid, nil); r.Status != 409 || r.Code(t) != "claim_locked" {
		t.Fatalf("delete after submit: %d %s", r.Status, r.Body)
	}
	if !exists(key) {
		t.Fatal("a refused delete removed the claim's evidence")
	}
}
