package claim

import "time"

// zoneNames are the words a customer reads for the business time zones
// this product is deployed with; any other zone is named by its IANA name.
var zoneNames = map[string]string{
	"America/Los_Angeles": "Pacific time",
	"America/Denver":      "Mountain time",
	"America/Phoenix":     "Mountain time",
	"America/Chicago":     "Central time",
	"America/New_York":    "Eastern time",
	"Europe/London":       "UK time",
	"Europe/Dublin":       "Irish time",
	"Europe/Berlin":       "Central European time",
	"Europe/Paris":        "Central European time",
	"Asia/Tokyo":          "Japan time",
	"Australia/Sydney":    "Sydney time",
	"UTC":                 "UTC",
}

// ZoneName is how a customer reads loc: "Pacific time" for
// America/Los_Angeles, the IANA name otherwise.
func ZoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	if n, ok := zoneNames[loc.String()]; ok {
		return n
	}
	return loc.String() + " time"
}

// LastDayToAct names a deadline that falls at midnight at the end of a
// business day (the opt-out window, the respond-by date) as the last day on
// which one may act, with the exact instant in UTC beside it: "the end of
// Tuesday 8 December 2026, Pacific time (Wednesday 9 December 2026 08:00
// UTC)", read after "until" or "by". "Before Wednesday 9 December 00:00" reads
// as a day later than meant. A deadline that is not at midnight is named
// by its local time instead.
func LastDayToAct(deadline time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	local := deadline.In(loc)
	utc := deadline.UTC().Format("Monday 2 January 2006 15:04") + " UTC"
	if local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 && local.Nanosecond() == 0 {
		last := local.Add(-time.Nanosecond)
		return "the end of " + last.Format("Monday 2 January 2006") + ", " + ZoneName(loc) + " (" + utc + ")"
	}
	return local.Format("Monday 2 January 2006 15:04") + ", " + ZoneName(loc) + " (" + utc + ")"
}
