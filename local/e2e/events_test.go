package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/shared/store"
)

// Every committed status change of a claim reaches the bus once, in order,
// with the contract's detail; edits that change no status do not.
func TestStatusChangesReachTheBus(t *testing.T) {
	u := apitest.NewUser(t, "evpartner", true)
	id := apitest.CreateClaim(t, &u, true)
	apitest.Expect(t, apitest.Call(t, &u, "PATCH", "/claims/"+id, map[string]any{"name": "Renamed"}), 200)
	apitest.Upload(t, &u, id, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
	apitest.WaitStatus(t, &u, id, "PendingCustomer")
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/withdraw", nil), 200)
	c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)

	evs := apitest.ClaimEvents(t, id, 4, 30*time.Second)
	var got []string
	for _, e := range evs {
		from := ""
		if e.FromStatus != nil {
			from = *e.FromStatus
		}
		got = append(got, from+">"+e.ToStatus)
	}
	want := []string{">Draft", "Draft>Submitted", "Submitted>PendingCustomer", "PendingCustomer>Withdrawn"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, e := range evs {
		if e.SchemaVersion != "1" || e.PartnerID != "evpartner" || e.MpnID != "1234567" || e.TenantID == "" ||
			e.EventID != store.EventID(id, e.Version) || e.At == "" {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && e.Version <= evs[i-1].Version {
			t.Errorf("versions out of order: %d after %d", e.Version, evs[i-1].Version)
		}
	}
	if last := evs[len(evs)-1]; float64(last.Version) != c["version"].(float64) {
		t.Errorf("last event version %d, claim version %v", last.Version, c["version"])
	}
	// Nothing more arrives (no event for the PATCH, the evidence, the notice).
	time.Sleep(time.Second)
	if n := len(apitest.ClaimEvents(t, id, 0, 0)); n != 4 {
		t.Errorf("%d events, want 4", n)
	}
}
