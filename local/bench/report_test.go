package bench_test

import (
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/bench"
)

// A partial run (BENCH=Submit) rewrites its own rows and keeps, marked,
// every row it did not measure; the file reads back as it was written.
func TestPartialRunKeepsTheOtherRows(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 22, 0, 0, time.UTC)
	full := []bench.Figure{
		{Section: "API", Name: "create", Value: "7.08 ms", Versus: "6.43 ms", Ratio: "1.10x", Goal: "≤ 1.2x", Met: true, Note: "n=68"},
		{Section: "API", Name: "submit", Value: "17.29 ms", Versus: "10.18 ms", Ratio: "1.70x", Goal: "≤ 1.3x", Note: "n=24"},
		{Section: "Binaries", Name: "OptOut: size", Value: "16.3 MiB", Goal: "≤ 12 MiB"},
	}
	md := bench.Markdown(full, at, "machine", "stack")
	prev, prevAt := bench.Previous(md)
	if prevAt != "2026-12-02 01:22 UTC" || len(prev) != len(full) {
		t.Fatalf("read back %q, %d rows:\n%s", prevAt, len(prev), md)
	}
	for i := range full {
		if prev[i] != full[i] {
			t.Fatalf("row %d read back as %+v, want %+v", i, prev[i], full[i])
		}
	}
	now := []bench.Figure{
		{Section: "API", Name: "submit", Value: "12.00 ms", Versus: "11.90 ms", Ratio: "1.01x", Goal: "≤ 1.05x", Met: true, Note: "n=30"},
		{Section: "API", Name: "submit, new row", Value: "1 ms"},
	}
	got := bench.Merge(prev, prevAt, now)
	want := []string{"create", "submit", "submit, new row", "OptOut: size"}
	if len(got) != len(want) {
		t.Fatalf("merged %+v", got)
	}
	for i, name := range want {
		if got[i].Name != name {
			t.Fatalf("row %d is %q, want %q: %+v", i, got[i].Name, name, got)
		}
	}
	if got[1] != now[0] || got[0].Note != "n=68; kept from the run of 2026-12-02 01:22 UTC" || got[3].Note != "kept from the run of 2026-12-02 01:22 UTC" {
		t.Fatalf("merged %+v", got)
	}
	// Merged again, a kept row is not marked twice.
	again := bench.Merge(got, "2026-12-02 08:00 UTC", nil)
	if again[0].Note != got[0].Note {
		t.Fatalf("marked twice: %q", again[0].Note)
	}
}
