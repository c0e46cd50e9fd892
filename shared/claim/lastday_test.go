package claim

import (
	"testing"
	"time"
)

func TestLastDayToAct(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	tokyo, _ := time.LoadLocation("Asia/Kolkata")
	cases := []struct {
		deadline time.Time
		loc      *time.Location
		want     string
	}{
		// The end of Tuesday 8 December in Los Angeles is 08:00 UTC on the 9th.
		{time.Date(2026, 12, 9, 8, 0, 0, 0, time.UTC), la,
			"the end of Tuesday 8 December 2026, Pacific time (Wednesday 9 December 2026 08:00 UTC)"},
		// Summer time: the end of Tuesday 10 March 2026 (PDT) is 07:00 UTC.
		{time.Date(2026, 3, 11, 7, 0, 0, 0, time.UTC), la,
			"the end of Tuesday 10 March 2026, Pacific time (Wednesday 11 March 2026 07:00 UTC)"},
		// The last day of the year.
		{time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC), la,
			"the end of Thursday 31 December 2026, Pacific time (Friday 1 January 2027 08:00 UTC)"},
		{time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC), paris,
			"the end of Tuesday 8 December 2026, Central European time (Tuesday 8 December 2026 23:00 UTC)"},
		{time.Date(2026, 12, 8, 18, 30, 0, 0, time.UTC), tokyo,
			"the end of Tuesday 8 December 2026, Asia/Kolkata time (Tuesday 8 December 2026 18:30 UTC)"},
		// Not at midnight: the moment itself.
		{time.Date(2026, 12, 9, 17, 30, 0, 0, time.UTC), la,
			"Wednesday 9 December 2026 09:30, Pacific time (Wednesday 9 December 2026 17:30 UTC)"},
		{time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), nil,
			"the end of Tuesday 8 December 2026, UTC (Wednesday 9 December 2026 00:00 UTC)"},
	}
	for _, tc := range cases {
		if got := LastDayToAct(tc.deadline, tc.loc); got != tc.want {
			t.Errorf("LastDayToAct(%v, %v)\n got %q\nwant %q", tc.deadline, tc.loc, got, tc.want)
		}
	}
}
