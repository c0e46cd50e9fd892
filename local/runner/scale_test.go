package runner_test

import (
	"sync"
	"testing"

	"github.com/cpor-claims/claims/local/apitest"
)

// Overlapping requests are served concurrently: the runner starts more
// instances of a busy function, never more than its bound (3 here).
func TestOverlappingRequestsScaleOut(t *testing.T) {
	u := apitest.NewUser(t, "scale", false)
	if n := rt.Instances("HistoryFunction"); n < 1 {
		t.Fatalf("%d instances before the load", n)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			apitest.Expect(t, apitest.Call(t, &u, "GET", "/evidence-template", nil), 200)
		}()
	}
	close(start)
	wg.Wait()
	if n := rt.Instances("HistoryFunction"); n < 2 || n > 3 {
		t.Fatalf("%d instances after 24 overlapping requests, want 2..3", n)
	}
}
