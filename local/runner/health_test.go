package runner_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
)

// A runner serves from the start: health answers 503 (and the API the
// gateway's 503) while it starts, and 200 only once Start is done, that
// is once the stack, the functions and the queue poller (its first
// receive) are ready; never 200 and then 503 again. The runner started
// here also takes its CORS origin from the UiOrigin parameter (make run's
// -ui-origin).
func TestHealthIs503UntilReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (int, map[string]any, error) {
		resp, err := client.Get(url + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m, nil
	}

	var (
		mu       sync.Mutex
		health   []healthAnswer
		apiCodes = map[int]int{}
		errs     []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			code, body, err := get("/_local/health")
			api, _, _ := get("/products")
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			} else {
				health = append(health, healthAnswer{code, body})
			}
			apiCodes[api]++
			mu.Unlock()
		}
	}()
	const origin = "http://ui.localtest.example:8080"
	r, err := apitest.StartRunnerWith(ctx, "health", runner.Config{Listener: ln, Params: map[string]string{"UiOrigin": origin}})
	// Keep polling a little after Start returned.
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Ready() {
		t.Fatal("Start returned but the runner is not ready")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("health did not answer during start (it must be served at once): %v", errs[0])
	}
	first200 := -1
	for i, s := range health {
		switch {
		case s.status == 503 && first200 < 0:
			if stage, _ := s.body["stage"].(string); s.body["status"] != "starting" || stage == "" {
				t.Fatalf("503 body %v", s.body)
			}
		case s.status == 200 && first200 < 0:
			first200 = i
			if s.body["status"] != "ready" {
				t.Fatalf("200 body %v", s.body)
			}
		case s.status != 200 || first200 < 0:
			t.Fatalf("health answer %d after %d 200s: %v", s.status, i-first200, health)
		}
	}
	if first200 < 1 {
		t.Fatalf("want 503s then 200, got %d answers, first 200 at %d", len(health), first200)
	}
	if apiCodes[503] == 0 {
		t.Fatalf("API answers during start: %v, want the gateway's 503 first", apiCodes)
	}
	if code, _, _ := get("/_local/health"); code != 200 {
		t.Fatalf("health after Start: %d", code)
	}
	t.Logf("health: %d answers of 503 (stages seen: %v) before 200", first200, stages(health[:first200]))

	defer apitest.Use(r)()
	checkCORS(t, origin, "http://localhost:5173")
}

type healthAnswer struct {
	status int
	body   map[string]any
}

func stages(s []healthAnswer) []any {
	var out []any
	for _, x := range s {
		if n := len(out); n == 0 || out[n-1] != x.body["stage"] {
			out = append(out, x.body["stage"])
		}
	}
	return out
}
