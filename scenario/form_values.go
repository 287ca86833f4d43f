package scenario

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// sanitizeValue is an input's value attribute after the HTML standard's
// value sanitization algorithm for its type, as a browser submits it.
func sanitizeValue(typ string, n *html.Node) string {
	v := attr(n, "value")
	switch typ {
	case "hidden":
		return v
	case "text", "search", "tel", "password":
		return stripNewlines(v)
	case "url":
		return strings.Trim(stripNewlines(v), asciiSpace)
	case "email":
		v = stripNewlines(v)
		if !hasAttr(n, "multiple") {
			return strings.Trim(v, asciiSpace)
		}
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.Trim(parts[i], asciiSpace)
		}
		return strings.Join(parts, ",")
	case "number":
		if !validFloat(v) {
			return ""
		}
		return v
	case "range":
		return rangeValue(n, v)
	case "color":
		if simpleColor.MatchString(v) {
			return strings.ToLower(v)
		}
		return "#000000"
	case "date":
		if _, err := time.Parse("2006-01-02", v); err == nil && dateShape.MatchString(v) {
			return v
		}
		return ""
	case "month":
		if _, err := time.Parse("2006-01", v); err == nil && monthShape.MatchString(v) {
			return v
		}
		return ""
	case "week":
		if m := weekShape.FindStringSubmatch(v); m != nil {
			year, _ := strconv.Atoi(m[1])
			week, _ := strconv.Atoi(m[2])
			if week >= 1 && week <= weeksIn(year) {
				return v
			}
		}
		return ""
	case "time":
		if validTime(v) {
			return v
		}
		return ""
	case "datetime-local":
		if d, t, ok := strings.Cut(v, "T"); ok {
			if _, err := time.Parse("2006-01-02", d); err == nil && dateShape.MatchString(d) && validTime(t) {
				return normalizeDateTime(d, t)
			}
		}
		if d, t, ok := strings.Cut(v, " "); ok {
			if _, err := time.Parse("2006-01-02", d); err == nil && dateShape.MatchString(d) && validTime(t) {
				return normalizeDateTime(d, t)
			}
		}
		return ""
	}
	return v
}

const asciiSpace = " \t\n\f\r"

func stripNewlines(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

var (
	floatShape  = regexp.MustCompile(`^-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$`)
	simpleColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	dateShape   = regexp.MustCompile(`^[0-9]{4,}-[0-9]{2}-[0-9]{2}$`)
	monthShape  = regexp.MustCompile(`^[0-9]{4,}-[0-9]{2}$`)
	weekShape   = regexp.MustCompile(`^([0-9]{4,})-W([0-9]{2})$`)
	timeShape   = regexp.MustCompile(`^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?$`)
)

// validFloat reports a valid floating-point number string (HTML).
func validFloat(s string) bool {
	if !floatShape.MatchString(s) {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && !math.IsInf(f, 0)
}

func validTime(s string) bool {
	m := timeShape.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec := 0
	if m[3] != "" {
		sec, _ = strconv.Atoi(m[3])
	}
	return h < 24 && mi < 60 && sec < 60
}

// normalizeDateTime writes a local date and time as browsers normalize
// it: "T" between them, seconds only when not zero.
func normalizeDateTime(d, t string) string {
	m := timeShape.FindStringSubmatch(t)
	out := d + "T" + m[1] + ":" + m[2]
	frac := strings.TrimRight(m[4], "0")
	if (m[3] != "" && m[3] != "00") || frac != "" {
		sec := m[3]
		if sec == "" {
			sec = "00"
		}
		out += ":" + sec
		if frac != "" {
			out += "." + frac
		}
	}
	return out
}

// weeksIn returns the number of ISO weeks of year.
func weeksIn(year int) int {
	_, w := time.Date(year, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// rangeValue is a range input's value: the value attribute if it is a
// number, else the midpoint of min and max (0 and 100 by default),
// clamped to them and snapped to the step (1 by default) from min.
func rangeValue(n *html.Node, v string) string {
	lo, hi, step := 0.0, 100.0, 1.0
	if s := attr(n, "min"); validFloat(s) {
		lo, _ = strconv.ParseFloat(s, 64)
	}
	if s := attr(n, "max"); validFloat(s) {
		hi, _ = strconv.ParseFloat(s, 64)
	}
	if hi < lo {
		hi = lo
	}
	anyStep := false
	if s := strings.ToLower(strings.TrimSpace(attr(n, "step"))); s == "any" {
		anyStep = true
	} else if validFloat(s) {
		if f, _ := strconv.ParseFloat(s, 64); f > 0 {
			step = f
		}
	}
	var x float64
	if validFloat(v) {
		x, _ = strconv.ParseFloat(v, 64)
	} else {
		x = lo + (hi-lo)/2
	}
	x = math.Min(math.Max(x, lo), hi)
	if !anyStep {
		k := math.Round((x - lo) / step)
		x = lo + k*step
		if x > hi {
			x -= step
		}
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
