package claim

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones work on provided.al2023, which ships no zoneinfo

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/us"
)

// Business-day windows of the lifecycle.
const (
	OptOutBusinessDays  = 5 // the customer's opt-out window after notification
	RespondBusinessDays = 5 // the partner's window to answer a NeedsInfo request
)

// holidayCalendars are the countries whose public holidays the maintained
// calendar library provides (ISO 3166 alpha-2).
var holidayCalendars = map[string][]*cal.Holiday{
	"BE": be.Holidays, "BR": br.Holidays, "CA": ca.Holidays, "CH": ch.Holidays,
	"DE": de.Holidays, "DK": dk.Holidays, "ES": es.Holidays, "FR": fr.Holidays, "GB": gb.Holidays,
	"IE": ie.Holidays, "IT": it.Holidays, "NL": nl.Holidays, "NO": no.Holidays, "NZ": nz.Holidays,
	"PL": pl.Holidays, "SE": se.Holidays, "US": us.Holidays,
}

// Countries lists the supported holiday calendars.
func Countries() []string {
	out := make([]string, 0, len(holidayCalendars))
	for c := range holidayCalendars {
		out = append(out, c)
	}
	return out
}

// Calendar counts business days (Monday to Friday, not a public holiday as
// observed) in a time zone.
type Calendar struct {
	loc *time.Location
	bc  *cal.BusinessCalendar
}

// NewCalendar returns the business calendar of a time zone (IANA name) and a
// country's public holidays.
func NewCalendar(timeZone, country string) (*Calendar, error) {
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", timeZone, err)
	}
	hols, ok := holidayCalendars[strings.ToUpper(strings.TrimSpace(country))]
	if !ok {
		return nil, fmt.Errorf("no holiday calendar for country %q", country)
	}
	bc := cal.NewBusinessCalendar()
	bc.AddHoliday(hols...)
	return &Calendar{loc: loc, bc: bc}, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsBusinessDay reports whether the local date of t is a business day.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	y, m, d := t.In(c.loc).Date()
	// The library reads the date's fields; noon keeps it clear of DST gaps.
	return c.bc.IsWorkday(time.Date(y, m, d, 12, 0, 0, 0, c.loc))
}

// EndOfBusinessDaysAfter is "the end of the n-th business day after t":
// the local day of t does not count; n business days are counted from the
// next day on; the result is midnight at the end of the n-th (00:00 local of
// the following date, so DST days of 23 or 25 hours are right), in UTC.
func (c *Calendar) EndOfBusinessDaysAfter(t time.Time, n int) time.Time {
	y, m, d := t.In(c.loc).Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	for counted := 0; counted < n; {
		y, m, d = day.Date()
		day = time.Date(y, m, d+1, 12, 0, 0, 0, c.loc)
		if c.bc.IsWorkday(day) {
			counted++
		}
	}
	y, m, d = day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc).UTC()
}
