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
		return colorValue(v)
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

func stripNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return newlineStripper.Replace(s)
}

var newlineStripper = strings.NewReplacer("\r", "", "\n", "")

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

// colorValue is a color input's value as browsers sanitize it: a CSS
// hex color (#rgb or #rrggbb) or named color, as lower-case #rrggbb;
// anything else is black.
func colorValue(v string) string {
	v = strings.ToLower(strings.Trim(v, asciiSpace))
	switch {
	case simpleColor.MatchString(v):
		return v
	case shortColor.MatchString(v):
		return "#" + strings.Repeat(v[1:2], 2) + strings.Repeat(v[2:3], 2) + strings.Repeat(v[3:4], 2)
	}
	if hex, ok := cssColors[v]; ok {
		return "#" + hex
	}
	return "#000000"
}

var shortColor = regexp.MustCompile(`^#[0-9a-f]{3}$`)

// cssColors are CSS's named colors.
var cssColors = func() map[string]string {
	const table = "aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc bisque ffe4c4 black 000000 " +
		"blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a burlywood deb887 cadetblue 5f9ea0 chartreuse 7fff00 " +
		"chocolate d2691e coral ff7f50 cornflowerblue 6495ed cornsilk fff8dc crimson dc143c cyan 00ffff darkblue 00008b " +
		"darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9 darkkhaki bdb76b " +
		"darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid 9932cc darkred 8b0000 darksalmon e9967a " +
		"darkseagreen 8fbc8f darkslateblue 483d8b darkslategray 2f4f4f darkslategrey 2f4f4f darkturquoise 00ced1 " +
		"darkviolet 9400d3 deeppink ff1493 deepskyblue 00bfff dimgray 696969 dimgrey 696969 dodgerblue 1e90ff " +
		"firebrick b22222 floralwhite fffaf0 forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc ghostwhite f8f8ff " +
		"gold ffd700 goldenrod daa520 gray 808080 green 008000 greenyellow adff2f grey 808080 honeydew f0fff0 " +
		"hotpink ff69b4 indianred cd5c5c indigo 4b0082 ivory fffff0 khaki f0e68c lavender e6e6fa lavenderblush fff0f5 " +
		"lawngreen 7cfc00 lemonchiffon fffacd lightblue add8e6 lightcoral f08080 lightcyan e0ffff " +
		"lightgoldenrodyellow fafad2 lightgray d3d3d3 lightgreen 90ee90 lightgrey d3d3d3 lightpink ffb6c1 " +
		"lightsalmon ffa07a lightseagreen 20b2aa lightskyblue 87cefa lightslategray 778899 lightslategrey 778899 " +
		"lightsteelblue b0c4de lightyellow ffffe0 lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff " +
		"maroon 800000 mediumaquamarine 66cdaa mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370db " +
		"mediumseagreen 3cb371 mediumslateblue 7b68ee mediumspringgreen 00fa9a mediumturquoise 48d1cc " +
		"mediumvioletred c71585 midnightblue 191970 mintcream f5fffa mistyrose ffe4e1 moccasin ffe4b5 " +
		"navajowhite ffdead navy 000080 oldlace fdf5e6 olive 808000 olivedrab 6b8e23 orange ffa500 orangered ff4500 " +
		"orchid da70d6 palegoldenrod eee8aa palegreen 98fb98 paleturquoise afeeee palevioletred db7093 " +
		"papayawhip ffefd5 peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6 purple 800080 " +
		"rebeccapurple 663399 red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513 salmon fa8072 " +
		"sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0 skyblue 87ceeb " +
		"slateblue 6a5acd slategray 708090 slategrey 708090 snow fffafa springgreen 00ff7f steelblue 4682b4 " +
		"tan d2b48c teal 008080 thistle d8bfd8 tomato ff6347 turquoise 40e0d0 violet ee82ee wheat f5deb3 " +
		"white ffffff whitesmoke f5f5f5 yellow ffff00 yellowgreen 9acd32"
	f := strings.Fields(table)
	m := make(map[string]string, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}()
