package loadtest

import (
	"io"
	"strings"
	"unicode/utf8"
)

// csvWriter writes the CSV benchgate produces (WriteCSV, LogRequestsCSV)
// so that a spreadsheet opening it runs nothing. Text cells (run and step
// names, methods, URLs, reasons: whatever a user or a server chose) are
// always quoted, their quotes doubled, and one that could start a formula
// (a first character, after any spaces, tabs, CRs or LFs, of '=', '+',
// '-', '@', or their full-width forms, or a leading tab or CR) gets a
// single quote in front, as OWASP's CSV injection advice says. Numbers
// benchgate formats itself are written bare, so a negative number stays a
// number. Lines end in "\n" as encoding/csv writes them.
type csvWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// csvCell is one cell: text to neutralise and quote, or benchgate's own
// text (a number, a boolean, a column name) written as it is.
type csvCell struct {
	s    string
	text bool
}

func csvText(s string) csvCell { return csvCell{s, true} }
func csvRaw(s string) csvCell  { return csvCell{s, false} }

// csvHeader is a header row of benchgate's column names, written as they are.
func csvHeader(ss ...string) []csvCell {
	out := make([]csvCell, len(ss))
	for i, s := range ss {
		out[i] = csvRaw(s)
	}
	return out
}

func (c *csvWriter) row(cells []csvCell) {
	if c.err != nil {
		return
	}
	c.buf = c.buf[:0]
	for i, cell := range cells {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		if !cell.text {
			c.buf = append(c.buf, cell.s...)
			continue
		}
		c.buf = append(c.buf, '"')
		if csvFormulaStart(cell.s) {
			c.buf = append(c.buf, '\'')
		}
		c.buf = append(c.buf, strings.ReplaceAll(cell.s, `"`, `""`)...)
		c.buf = append(c.buf, '"')
	}
	c.buf = append(c.buf, '\n')
	_, c.err = c.w.Write(c.buf)
}

// csvFormulaStart reports whether a spreadsheet could read s as a
// formula: it starts with a tab or CR, or its first character after
// white space is one of = + - @ (ASCII or full width).
func csvFormulaStart(s string) bool {
	if s != "" && (s[0] == '\t' || s[0] == '\r') {
		return true
	}
	s = strings.TrimLeft(s, " \t\r\n")
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
		return true
	}
	return false
}
