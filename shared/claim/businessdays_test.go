package claim

import (
	"testing"
	"time"
)

func mustCal(t *testing.T, zone, country string) *Calendar {
	t.Helper()
	c, err := NewCalendar(zone, country)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndOfBusinessDaysAfter(t *testing.T) {
	la := mustCal(t, "America/Los_Angeles", "US")
	lisbonGB := mustCal(t, "Europe/London", "GB")
	berlin := mustCal(t, "Europe/Berlin", "DE")
	utc := mustCal(t, "UTC", "US")
	cases := []struct {
		name string
		cal  *Calendar
		at   string // RFC 3339
		want string // RFC 3339 UTC, checked by hand
	}{
		// Mon 2 Mar 2026 10:00 PST: Tue..Fri, Mon 9 -> end of Mon 9 = Tue 10 00:00 PDT (DST began Sun 8).
		{"across the spring DST change", la, "2026-03-02T10:00:00-08:00", "2026-03-10T07:00:00Z"},
		// Fri 30 Oct 2026 23:30 PDT: Mon 2..Fri 6 Nov -> Sat 7 00:00 PST (DST ended Sun 1).
		{"across the autumn DST change", la, "2026-10-30T23:30:00-07:00", "2026-11-07T08:00:00Z"},
		// Tue 24 Nov 2026: Wed 25, (Thu 26 Thanksgiving), Fri 27, Mon 30, Tue 1, Wed 2 -> Thu 3 Dec 00:00 PST.
		{"Thanksgiving", la, "2026-11-24T10:00:00-08:00", "2026-12-03T08:00:00Z"},
		// Wed 23 Dec 2026: Thu 24, (Fri 25 Christmas), Mon 28, Tue 29, Wed 30, Thu 31 -> Fri 1 Jan 2027 00:00 PST.
		{"Christmas and year end", la, "2026-12-23T09:00:00-08:00", "2027-01-01T08:00:00Z"},
		// Thu 31 Dec 2026: (Fri 1 Jan New Year), Mon 4..Fri 8 -> Sat 9 Jan 00:00 PST.
		{"New Year", la, "2026-12-31T12:00:00-08:00", "2027-01-09T08:00:00Z"},
		// Saturday: the day does not count; Mon..Fri -> Sat 00:00.
		{"notified on a Saturday", utc, "2026-11-14T15:00:00Z", "2026-11-21T00:00:00Z"},
		// 23:59 local Friday vs 00:01 local Saturday land on the same deadline.
		{"late Friday", la, "2026-11-13T23:59:00-08:00", "2026-11-21T08:00:00Z"},
		{"early Saturday", la, "2026-11-14T00:01:00-08:00", "2026-11-21T08:00:00Z"},
		// 05:00Z Tue is still Monday in Los Angeles: counting starts Tuesday.
		{"UTC date differs from the local date", la, "2026-11-17T05:00:00Z", "2026-11-24T08:00:00Z"},
		// GB: Boxing Day 2026 is Sat, observed Mon 28; Christmas Fri 25. Wed 23: Thu 24, Tue 29, Wed 30, Thu 31, (Fri 1 Jan) Mon 4 -> Tue 5 00:00 GMT.
		{"GB Christmas observed days", lisbonGB, "2026-12-23T12:00:00Z", "2027-01-05T00:00:00Z"},
		// DE: Tue 29 Sep 2026: Wed 30, Thu 1, Fri 2, (Sat, Sun, Sat 3 Unity Day is a Saturday) Mon 5, Tue 6 -> Wed 7 00:00 CEST.
		{"Berlin", berlin, "2026-09-29T12:00:00+02:00", "2026-10-06T22:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tc.at)
			want, _ := time.Parse(time.RFC3339, tc.want)
			got := tc.cal.EndOfBusinessDaysAfter(at, 5)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("got %s, want %s", got.Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	la := mustCal(t, "America/Los_Angeles", "US")
	for at, want := range map[string]bool{
		"2026-11-26T12:00:00-08:00": false, // Thanksgiving
		"2026-11-27T12:00:00-08:00": true,
		"2026-11-28T12:00:00-08:00": false, // Saturday
		"2026-07-03T12:00:00-07:00": false, // Independence Day (Sat 4) observed Friday
	} {
		ts, _ := time.Parse(time.RFC3339, at)
		if got := la.IsBusinessDay(ts); got != want {
			t.Errorf("%s: %v, want %v", at, got, want)
		}
	}
}

func TestNewCalendarRefusesUnknownZoneOrCountry(t *testing.T) {
	if _, err := NewCalendar("Mars/Olympus", "US"); err == nil {
		t.Error("unknown zone accepted")
	}
	if _, err := NewCalendar("UTC", "XX"); err == nil {
		t.Error("unknown country accepted")
	}
	if _, err := NewCalendar("Europe/Dublin", "ie"); err != nil {
		t.Errorf("lower-case country: %v", err)
	}
	if len(Countries()) < 10 {
		t.Errorf("countries: %v", Countries())
	}
}
