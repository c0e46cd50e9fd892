package claim

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zones work on provided.al2023, which ships no zoneinfo

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ar"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/au"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/bg"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/gr"
	"github.com/rickar/cal/v2/hr"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/lv"
	"github.com/rickar/cal/v2/mw"
	"github.com/rickar/cal/v2/nc"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/ro"
	"github.com/rickar/cal/v2/ru"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/si"
	"github.com/rickar/cal/v2/sk"
	"github.com/rickar/cal/v2/ua"
	"github.com/rickar/cal/v2/us"
	"github.com/rickar/cal/v2/za"
)

// Business-day windows of the lifecycle.
const (
	OptOutBusinessDays  = 5 // the customer's opt-out window after notification
	RespondBusinessDays = 5 // the partner's window to answer a NeedsInfo request
)

// holidayCalendars maps ISO 3166-1 alpha-2 country codes to every national
// list of public holidays github.com/rickar/cal/v2 provides. Australia has no national
// list there, only its states' (ISO 3166-2: AU-NSW, ...). The library has no
// Portuguese calendar in the version this module pins (v2.1.13).
var holidayCalendars = map[string][]*cal.Holiday{
	"AR": ar.Holidays, "AT": at.Holidays, "BE": be.Holidays, "BG": bg.Holidays,
	"BR": br.Holidays, "CA": ca.Holidays, "CH": ch.Holidays, "CZ": cz.Holidays,
	"DE": de.Holidays, "DK": dk.Holidays, "ES": es.Holidays, "FR": fr.Holidays,
	"GB": gb.Holidays, "GR": gr.Holidays, "HR": hr.Holidays, "IE": ie.Holidays,
	"IT": it.Holidays, "JP": jp.Holidays, "LT": lt.Holidays, "LV": lv.Holidays,
	"MW": mw.Holidays, "NC": nc.Holidays, "NL": nl.Holidays, "NO": no.Holidays,
	"NZ": nz.Holidays, "PL": pl.Holidays, "RO": ro.Holidays, "RU": ru.Holidays,
	"SE": se.Holidays, "SI": si.Holidays, "SK": sk.Holidays, "UA": ua.Holidays,
	"US": us.Holidays, "ZA": za.Holidays,
	"AU-ACT": au.HolidaysACT, "AU-NSW": au.HolidaysNSW, "AU-NT": au.HolidaysNT,
	"AU-QLD": au.HolidaysQLD, "AU-SA": au.HolidaysSA, "AU-TAS": au.HolidaysTAS,
	"AU-VIC": au.HolidaysVIC, "AU-WA": au.HolidaysWA,
}

// Countries lists the supported holiday calendars' codes, sorted.
func Countries() []string {
	out := make([]string, 0, len(holidayCalendars))
	for c := range holidayCalendars {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Calendar counts business days: Monday to Friday, unless the day is a
// public holiday as observed (cal/v2 semantics: a holiday falling on a
// weekend counts on the weekday its country observes it, e.g. US
// Independence Day on Saturday 4 July 2026 is off on Friday 3 July). Dates
// are those of the calendar's time zone. A Calendar is read-only once built
// and safe for concurrent use.
type Calendar struct {
	loc *time.Location
	bc  *cal.BusinessCalendar
}

// NewCalendar returns the business calendar of an IANA time zone
// ("America/Los_Angeles") and a country's public holidays (a code of
// Countries, in any case). An empty or unknown zone, "Local", or an unknown
// country is an error.
func NewCalendar(timeZone, country string) (*Calendar, error) {
	timeZone = strings.TrimSpace(timeZone)
	if timeZone == "" || timeZone == "Local" {
		return nil, fmt.Errorf("time zone %q: name an IANA zone such as America/Los_Angeles", timeZone)
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", timeZone, err)
	}
	hols, ok := holidayCalendars[strings.ToUpper(strings.TrimSpace(country))]
	if !ok {
		return nil, fmt.Errorf("no holiday calendar for country %q (supported: %s)", country, strings.Join(Countries(), ", "))
	}
	bc := cal.NewBusinessCalendar() // Monday to Friday; not Cacheable, so read-only
	bc.AddHoliday(hols...)
	return &Calendar{loc: loc, bc: bc}, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsBusinessDay reports whether the local date of t (in the calendar's
// zone) is a business day.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	return c.bc.IsWorkday(c.noon(t))
}

// noon is midday of t's local date: the library reads the date's fields, and
// noon keeps every step of a day walk clear of DST gaps.
func (c *Calendar) noon(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, c.loc)
}

// EndOfBusinessDaysAfter is "the end of the n-th business day after t": the
// local day of t does not count, whatever its hour; n business days are
// counted from the next day on; the result is midnight at the end of the
// n-th (the first instant of the following local date, computed with
// time.Date so days of 23 or 25 hours are right), in UTC. n <= 0 gives the
// end of t's own day.
func (c *Calendar) EndOfBusinessDaysAfter(t time.Time, n int) time.Time {
	day := c.noon(t)
	for counted := 0; counted < n; {
		day = c.nextDay(day)
		if c.bc.IsWorkday(day) {
			counted++
		}
	}
	return c.startOfDay(c.nextDay(day)).UTC()
}

// nextDay is noon of the local date after day's.
func (c *Calendar) nextDay(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 12, 0, 0, 0, c.loc)
}

// startOfDay is the first instant of day's local date: 00:00, or, where a
// DST change skips midnight (America/Santiago, America/Havana), the end of
// the gap. time.Date may answer such a missing midnight with an instant of
// the day before; ZoneBounds then gives the change that starts the day.
func (c *Calendar) startOfDay(day time.Time) time.Time {
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	if start.Day() != d {
		_, start = start.ZoneBounds()
	}
	return start
}
