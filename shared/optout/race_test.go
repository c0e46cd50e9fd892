package optout_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/queue"
)

type nopJobs struct{}

func (nopJobs) Send(context.Context, queue.Job) error { return nil }

// An opt-out a moment before the deadline races a finalize run at the
// deadline: whichever commits first decides, and the claim has exactly one
// outcome and one event for it. Both orders are run many times.
func TestOptOutRacesFinalizeAtTheDeadline(t *testing.T) {
	st, h, _ := setup(t)
	f := &finalize.Finalizer{Store: st, Jobs: nopJobs{}, Mail: &partnerMails{}, Clock: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	outcomes := map[claim.Status]int{}
	for i := range 12 {
		c, token := pending(t, st)
		// Each claim is alone on its workload, so finalize can approve it.
		var wg sync.WaitGroup
		var code int
		optOut := func() {
			defer wg.Done()
			resp, err := h.Handle(context.Background(), request(http.MethodPost, token, deadline.Add(-time.Millisecond)))
			if err != nil {
				t.Error(err)
			}
			code = resp.StatusCode
		}
		fin := func() {
			defer wg.Done()
			if _, err := f.Run(context.Background(), deadline); err != nil {
				t.Error(err)
			}
		}
		wg.Add(2)
		if i%2 == 0 {
			go optOut()
			go fin()
		} else {
			go fin()
			go optOut()
		}
		wg.Wait()
		got, err := st.Get(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		outcomes[got.Status]++
		evs, _ := st.History(context.Background(), c.ID)
		decisions := 0
		for _, e := range evs {
			if e.Action == claim.ActionOptedOut || e.Action == claim.ActionApproved || e.Action == claim.ActionRejected {
				decisions++
			}
		}
		if decisions != 1 {
			t.Fatalf("round %d: %d decisions in the history: %+v", i, decisions, evs)
		}
		switch got.Status {
		case claim.StatusOptedOut:
			if code != http.StatusOK {
				t.Fatalf("opted out but the page said %d", code)
			}
		case claim.StatusApproved, claim.StatusRejected:
			if code != http.StatusGone {
				t.Fatalf("decided by finalize but the page said %d", code)
			}
		default:
			t.Fatalf("round %d: undecided %s", i, got.Status)
		}
	}
	t.Logf("outcomes over 12 races: %v", outcomes)
}
