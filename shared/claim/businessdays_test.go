package claim

import (
	"slices"
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

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// Every expected instant below was worked out by hand from a printed
// calendar; the comment walks the counted days ((…) = not a business day).
func TestEndOfBusinessDaysAfter(t *testing.T) {
	la := mustCal(t, "America/Los_Angeles", "US")
	london := mustCal(t, "Europe/London", "GB")
	berlin := mustCal(t, "Europe/Berlin", "DE")
	dublin := mustCal(t, "Europe/Dublin", "IE")
	lisbon := mustCal(t, "Europe/Lisbon", "ES") // the library has no PT calendar
	sydney := mustCal(t, "Australia/Sydney", "AU-NSW")
	cairo := mustCal(t, "Africa/Cairo", "US") // Egypt changes clocks at midnight, Thursday to Friday
	utc := mustCal(t, "UTC", "US")
	cases := []struct {
		name string
		cal  *Calendar
		at   string // RFC 3339
		n    int
		want string // RFC 3339 UTC
	}{
		// Mon 16 Nov: Tue 17, Wed 18, Thu 19, Fri 20, Mon 23 -> Tue 24 00:00 PST.
		{"Monday morning: Tuesday 00:00 next week", la, "2026-11-16T09:00:00-08:00", 5, "2026-11-24T08:00:00Z"},
		// Mon 9 Nov: Tue 10, (Wed 11 Veterans Day), Thu 12, Fri 13, Mon 16, Tue 17 -> Wed 18.
		{"Veterans Day", la, "2026-11-09T09:00:00-08:00", 5, "2026-11-18T08:00:00Z"},
		// Fri 13 Nov 23:59: Mon 16 .. Fri 20 -> Sat 21 00:00 PST.
		{"Friday late evening", la, "2026-11-13T23:59:00-08:00", 5, "2026-11-21T08:00:00Z"},
		{"Saturday just after midnight", la, "2026-11-14T00:01:00-08:00", 5, "2026-11-21T08:00:00Z"},
		{"Saturday afternoon in UTC", utc, "2026-11-14T15:00:00Z", 5, "2026-11-21T00:00:00Z"},
		// 23:59 Monday counts from Tuesday; 00:01 Tuesday from Wednesday.
		{"Monday 23:59", la, "2026-11-16T23:59:00-08:00", 5, "2026-11-24T08:00:00Z"},
		{"Tuesday 00:01", la, "2026-11-17T00:01:00-08:00", 5, "2026-11-25T08:00:00Z"},
		// 05:00Z Tuesday is still Monday 21:00 in Los Angeles.
		{"UTC's Tuesday is LA's Monday", la, "2026-11-17T05:00:00Z", 5, "2026-11-24T08:00:00Z"},
		// 23:30Z Sunday is Monday 00:30 in Berlin: Tue 17 .. Mon 23 -> Tue 24 00:00 CET.
		{"UTC's Sunday is Berlin's Monday", berlin, "2026-11-15T23:30:00Z", 5, "2026-11-23T23:00:00Z"},
		// Tue 24 Nov: Wed 25, (Thu 26 Thanksgiving), Fri 27, Mon 30, Tue 1, Wed 2 -> Thu 3 Dec.
		{"across Thanksgiving", la, "2026-11-24T10:00:00-08:00", 5, "2026-12-03T08:00:00Z"},
		// On Thanksgiving: Fri 27 (the day after is a business day in us.Holidays), Mon 30 .. Thu 3 -> Fri 4.
		{"notified on Thanksgiving", la, "2026-11-26T10:00:00-08:00", 5, "2026-12-04T08:00:00Z"},
		// Wed 23 Dec: Thu 24, (Fri 25), Mon 28, Tue 29, Wed 30, Thu 31 -> Fri 1 Jan 2027 00:00 PST.
		{"Christmas to year end", la, "2026-12-23T09:00:00-08:00", 5, "2027-01-01T08:00:00Z"},
		// Thu 31 Dec: (Fri 1 Jan), Mon 4 .. Fri 8 -> Sat 9 Jan.
		{"across New Year", la, "2026-12-31T12:00:00-08:00", 5, "2027-01-09T08:00:00Z"},
		// Christmas 2027 is a Saturday, observed Fri 24: Thu 23, (Fri 24), Mon 27 .. Thu 30 -> Fri 31.
		{"observed Christmas", la, "2027-12-22T10:00:00-08:00", 5, "2027-12-31T08:00:00Z"},
		// New Year 2028 is a Saturday, observed Fri 31 Dec 2027: Tue 28, Wed 29, Thu 30, (Fri 31), Mon 3, Tue 4 -> Wed 5.
		{"New Year observed the year before", la, "2027-12-27T10:00:00-08:00", 5, "2028-01-05T08:00:00Z"},
		// Mon 2 Mar: Tue 3 .. Fri 6, Mon 9 -> Tue 10 00:00 PDT (DST began Sun 8).
		{"across spring DST", la, "2026-03-02T10:00:00-08:00", 5, "2026-03-10T07:00:00Z"},
		// Sun 8 Mar 01:30 PST, half an hour before the jump: Mon 9 .. Fri 13 -> Sat 14 00:00 PDT.
		{"on the spring DST day", la, "2026-03-08T01:30:00-08:00", 5, "2026-03-14T07:00:00Z"},
		// Fri 30 Oct 23:30 PDT: Mon 2 .. Fri 6 Nov -> Sat 7 00:00 PST (DST ended Sun 1).
		{"across autumn DST", la, "2026-10-30T23:30:00-07:00", 5, "2026-11-07T08:00:00Z"},
		// Sun 1 Nov 01:30 happens twice; both are Sunday.
		{"autumn DST, first 01:30", la, "2026-11-01T01:30:00-07:00", 5, "2026-11-07T08:00:00Z"},
		{"autumn DST, second 01:30", la, "2026-11-01T01:30:00-08:00", 5, "2026-11-07T08:00:00Z"},
		// n varies. Fri 20 Nov: n=0 is the end of that day; n=1 is Mon 23;
		// n=10 from Mon 16: Tue 17 .. Tue 24 (6), Wed 25 (7), (Thu 26), Fri 27 (8), Mon 30 (9), Tue 1 (10) -> Wed 2 Dec.
		{"n=0", la, "2026-11-20T15:00:00-08:00", 0, "2026-11-21T08:00:00Z"},
		{"n=1 on a Friday", la, "2026-11-20T15:00:00-08:00", 1, "2026-11-24T08:00:00Z"},
		{"n=10 across Thanksgiving", la, "2026-11-16T09:00:00-08:00", 10, "2026-12-02T08:00:00Z"},
		// GB: Wed 23 Dec: Thu 24, (Fri 25), (Mon 28: Boxing Day, a Saturday, observed), Tue 29, Wed 30, Thu 31, (Fri 1), Mon 4 -> Tue 5 00:00 GMT.
		{"GB Boxing Day observed", london, "2026-12-23T12:00:00Z", 5, "2027-01-05T00:00:00Z"},
		// DE: Tue 29 Sep: Wed 30, Thu 1, Fri 2, (Sat 3 Unity Day), Mon 5, Tue 6 -> Wed 7 00:00 CEST.
		{"DE Unity Day on a Saturday", berlin, "2026-09-29T12:00:00+02:00", 5, "2026-10-06T22:00:00Z"},
		// IE: Fri 13 Mar: Mon 16, (Tue 17 St Patrick's), Wed 18, Thu 19, Fri 20, Mon 23 -> Tue 24 00:00 GMT.
		{"IE St Patrick's Day", dublin, "2026-03-13T12:00:00Z", 5, "2026-03-24T00:00:00Z"},
		// IE: Thu 26 Mar: Fri 27, Mon 30 .. Thu 2 Apr -> Fri 3 00:00 IST (summer time began Sun 29).
		{"IE across summer time", dublin, "2026-03-26T12:00:00Z", 5, "2026-04-02T23:00:00Z"},
		// IE: Wed 1 Apr: Thu 2, Fri 3 (Good Friday is no public holiday), (Mon 6 Easter Monday), Tue 7, Wed 8, Thu 9 -> Fri 10.
		{"IE Easter Monday", dublin, "2026-04-01T12:00:00+01:00", 5, "2026-04-09T23:00:00Z"},
		// Lisbon, ES holidays: Fri 9 Oct: (Mon 12 Fiesta Nacional), Tue 13 .. Fri 16, Mon 19 -> Tue 20 00:00 WEST.
		{"Lisbon, Fiesta Nacional", lisbon, "2026-10-09T12:00:00+01:00", 5, "2026-10-19T23:00:00Z"},
		// Lisbon: Thu 22 Oct: Fri 23, Mon 26 .. Thu 29 -> Fri 30 00:00 WET (summer time ended Sun 25).
		{"Lisbon across DST end", lisbon, "2026-10-22T12:00:00+01:00", 5, "2026-10-30T00:00:00Z"},
		// Lisbon: Fri 4 Dec: (Sun 6 Constitución, not moved), Mon 7, (Tue 8 Inmaculada), Wed 9, Thu 10, Fri 11, Mon 14 -> Tue 15.
		{"Lisbon, December holidays", lisbon, "2026-12-04T12:00:00Z", 5, "2026-12-15T00:00:00Z"},
		// Sydney: Thu 1 Oct: Fri 2, (Sun 4 DST begins), (Mon 5 Labour Day), Tue 6 .. Fri 9 -> Sat 10 00:00 AEDT.
		{"Sydney, DST start and Labour Day", sydney, "2026-10-01T12:00:00+10:00", 5, "2026-10-09T13:00:00Z"},
		// Cairo: Thu 16 Apr: Fri 17, Mon 20 .. Thu 23 -> Fri 24, whose 00:00 EET is skipped to 01:00 EEST (22:00Z).
		{"Cairo, midnight skipped", cairo, "2026-04-16T12:00:00+02:00", 5, "2026-04-23T22:00:00Z"},
		// Cairo: Thu 22 Oct: Fri 23, Mon 26 .. Thu 29, a 25-hour day (23:00-24:00 twice) -> Fri 30 00:00 EET.
		{"Cairo, 25-hour last day", cairo, "2026-10-22T12:00:00+03:00", 5, "2026-10-29T22:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cal.EndOfBusinessDaysAfter(mustTime(t, tc.at), tc.n)
			if want := mustTime(t, tc.want); !got.Equal(want) {
				t.Fatalf("got %s (%s), want %s", got.Format(time.RFC3339), got.In(tc.cal.Location()), tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location %s, want UTC", got.Location())
			}
		})
	}
}

// TestEndOfBusinessDaysAfterProperties checks, hour by hour over two years,
// that the deadline is a local midnight after t, that the day before it is
// a business day, and that exactly n business days lie between.
func TestEndOfBusinessDaysAfterProperties(t *testing.T) {
	for _, cc := range []struct{ zone, country string }{
		{"America/Los_Angeles", "US"}, {"Europe/Dublin", "IE"}, {"Australia/Sydney", "AU-NSW"}, {"America/Sao_Paulo", "BR"},
	} {
		c := mustCal(t, cc.zone, cc.country)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for at := start; at.Year() < 2028; at = at.Add(7 * time.Hour) {
			for _, n := range []int{1, OptOutBusinessDays} {
				got := c.EndOfBusinessDaysAfter(at, n)
				local := got.In(c.Location())
				if h, m, s := local.Clock(); h != 0 || m != 0 || s != 0 || !got.After(at) {
					t.Fatalf("%s %s n=%d: %s is not a later local midnight", cc.zone, at, n, local)
				}
				lastDay := local.Add(-time.Hour)
				if !c.IsBusinessDay(lastDay) {
					t.Fatalf("%s %s n=%d: %s is not a business day", cc.zone, at, n, lastDay)
				}
				count := 0
				for d := c.nextDay(c.noon(at)); d.Before(got); d = c.nextDay(d) {
					if c.IsBusinessDay(d) {
						count++
					}
				}
				if count != n {
					t.Fatalf("%s %s n=%d: %d business days up to %s", cc.zone, at, n, count, local)
				}
			}
		}
	}
}

func TestStartOfDay(t *testing.T) {
	cases := []struct {
		zone string
		date string // local date
		want string // first instant, UTC
	}{
		{"America/Los_Angeles", "2026-03-08", "2026-03-08T08:00:00Z"}, // PST; the gap is at 02:00
		{"America/Los_Angeles", "2026-11-01", "2026-11-01T07:00:00Z"}, // PDT; the overlap is at 01:00
		{"America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z"},    // Sat 24:00 -04 becomes Sun 01:00 -03
		{"America/Havana", "2026-03-08", "2026-03-08T05:00:00Z"},      // 00:00 CST becomes 01:00 CDT
		{"Africa/Cairo", "2026-04-24", "2026-04-23T22:00:00Z"},        // 00:00 EET becomes 01:00 EEST
		{"Europe/Lisbon", "2026-10-25", "2026-10-24T23:00:00Z"},       // WEST; the change is at 02:00
	}
	for _, tc := range cases {
		c := mustCal(t, tc.zone, "US")
		d, err := time.ParseInLocation(time.DateOnly, tc.date, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		got := c.startOfDay(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, c.Location()))
		if want := mustTime(t, tc.want); !got.Equal(want) {
			t.Errorf("%s %s starts at %s, want %s", tc.zone, tc.date, got.UTC().Format(time.RFC3339), tc.want)
		}
	}
}

func TestIsBusinessDay(t *testing.T) {
	la := mustCal(t, "America/Los_Angeles", "US")
	london := mustCal(t, "Europe/London", "GB")
	cases := []struct {
		name string
		cal  *Calendar
		at   string
		want bool
	}{
		{"Thanksgiving", la, "2026-11-26T12:00:00-08:00", false},
		{"the day after Thanksgiving", la, "2026-11-27T12:00:00-08:00", true},
		{"Saturday", la, "2026-11-28T12:00:00-08:00", false},
		{"Sunday", la, "2026-11-29T12:00:00-08:00", false},
		{"plain Monday", la, "2026-11-30T12:00:00-08:00", true},
		{"Independence Day (Sat) observed Friday", la, "2026-07-03T12:00:00-07:00", false},
		{"Monday after Independence Day", la, "2026-07-06T12:00:00-07:00", true},
		{"Christmas 2027 (Sat) observed Friday", la, "2027-12-24T12:00:00-08:00", false},
		{"New Year 2028 (Sat) observed Friday", la, "2027-12-31T12:00:00-08:00", false},
		{"22:00 Thanksgiving in LA is Friday in UTC", la, "2026-11-27T06:00:00Z", false},
		{"00:30 Friday in LA is 08:30Z", la, "2026-11-27T08:30:00Z", true},
		{"GB Boxing Day (Sat) observed Monday", london, "2026-12-28T12:00:00Z", false},
		{"GB Tuesday after", london, "2026-12-29T12:00:00Z", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cal.IsBusinessDay(mustTime(t, tc.at)); got != tc.want {
				t.Fatalf("IsBusinessDay(%s) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestNewCalendar(t *testing.T) {
	cases := []struct {
		zone, country string
		ok            bool
	}{
		{"America/Los_Angeles", "US", true},
		{"Europe/Dublin", " ie ", true},
		{"Australia/Sydney", "au-nsw", true},
		{"UTC", "GB", true},
		{"Mars/Olympus_Mons", "US", false},
		{"", "US", false},
		{"Local", "US", false},
		{"UTC", "XX", false},
		{"UTC", "", false},
		{"UTC", "AU", false}, // only the states have lists
		{"Europe/Lisbon", "PT", false},
	}
	for _, tc := range cases {
		c, err := NewCalendar(tc.zone, tc.country)
		if (err == nil) != tc.ok {
			t.Errorf("NewCalendar(%q, %q): %v, want ok=%v", tc.zone, tc.country, err, tc.ok)
			continue
		}
		if err == nil && c.Location().String() != tc.zone {
			t.Errorf("NewCalendar(%q): location %s", tc.zone, c.Location())
		}
	}
	got := Countries()
	if !slices.IsSorted(got) {
		t.Errorf("Countries not sorted: %v", got)
	}
	for _, want := range []string{"US", "GB", "IE", "DE", "FR", "NL", "ES", "IT", "CA", "BR", "SE", "DK", "NO", "AU-NSW", "AU-VIC"} {
		if !slices.Contains(got, want) {
			t.Errorf("Countries lacks %s", want)
		}
	}
	for _, code := range got {
		if _, err := NewCalendar("UTC", code); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
}
