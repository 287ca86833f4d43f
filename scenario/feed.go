package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
)

// Feeder gives each iteration of a run values from a table (a slice of
// rows, or a CSV file with a header), as {{field}} variables: one login
// per iteration, say. Build one with FeedRows or FeedCSV; like every
// builder here its methods change it and return it.
//
// By default iteration i takes row i, and when the rows run out the
// feeder wraps around. Random draws a row per iteration with a
// generator seeded by the plan's seed and the iteration (so a seed
// replays the draws, whatever order the iterations run in); Unique
// never gives a row twice. OnEnd decides what happens when the rows run
// out: Wrap (start again), Stop (the run starts no more iterations) or
// Fail (each further iteration's requests are not sent, with the
// reason).
type Feeder struct {
	source string
	fields []string
	rows   [][]string
	random bool
	unique bool
	onEnd  FeedEnd
	err    error
}

// FeedEnd says what happens when a feeder's rows run out.
type FeedEnd int

// What a feeder does when its rows run out.
const (
	Wrap FeedEnd = iota
	Stop
	Fail
)

// FeedRows feeds rows (each as long as fields) to the run's iterations.
func FeedRows(fields []string, rows [][]string) *Feeder {
	f := &Feeder{source: "FeedRows", fields: fields, rows: rows}
	for i, r := range rows {
		if len(r) != len(fields) {
			f.err = fmt.Errorf("row %d has %d values for %d fields", i, len(r), len(fields))
			break
		}
	}
	return f
}

// FeedCSV feeds the rows of a CSV file whose first line names the
// fields. The file is read when the feeder is made; a problem with it is
// a validation error of the run.
func FeedCSV(path string) *Feeder {
	f := &Feeder{source: fmt.Sprintf("FeedCSV(%q)", path)}
	file, err := os.Open(path)
	if err != nil {
		f.err = err
		return f
	}
	defer file.Close()
	all, err := csv.NewReader(file).ReadAll()
	switch {
	case err != nil:
		f.err = err
	case len(all) == 0:
		f.err = errors.New("empty file: the first line must name the fields")
	default:
		f.fields, f.rows = all[0], all[1:]
	}
	return f
}

// Random draws a row for each iteration from the plan's seed.
func (f *Feeder) Random() *Feeder { f.random = true; return f }

// Unique gives every iteration a row of its own (no row twice).
func (f *Feeder) Unique() *Feeder { f.unique = true; return f }

// OnEnd sets what happens when the rows run out (default Wrap).
func (f *Feeder) OnEnd(e FeedEnd) *Feeder { f.onEnd = e; return f }

// Fields returns the names the feeder defines.
func (f *Feeder) Fields() []string { return f.fields }

// String describes the feeder.
func (f *Feeder) String() string { return f.source }

func (f *Feeder) validate() error {
	if f.err != nil {
		return f.err
	}
	if len(f.rows) == 0 {
		return errors.New("no rows")
	}
	for _, n := range f.fields {
		if !validVarName(n) {
			return fmt.Errorf("field %q is not a variable name", n)
		}
	}
	if f.unique && f.random {
		return errors.New("Unique and Random: pick one")
	}
	if f.unique && f.onEnd == Wrap {
		return errors.New("Unique cannot wrap around: OnEnd(Stop) or OnEnd(Fail)")
	}
	return nil
}

// ErrFeedEnded is the reason an iteration fails when its feeder ran out
// (OnEnd(Fail)).
var ErrFeedEnded = errors.New("the feeder's rows ran out")

// Row returns the values of iteration iter: ok false when the rows ran
// out (then OnEnd says what to do).
func (f *Feeder) Row(iter int, seed uint64) (vals map[string]string, ok bool) {
	n := len(f.rows)
	var i int
	switch {
	case f.random:
		i = rand.New(rand.NewPCG(seed, uint64(iter))).IntN(n)
	case iter < n:
		i = iter
	case f.onEnd == Wrap && !f.unique:
		i = iter % n
	default:
		return nil, false
	}
	vals = make(map[string]string, len(f.fields))
	for k, name := range f.fields {
		vals[name] = f.rows[i][k]
	}
	return vals, true
}

// End returns what the feeder does when its rows run out.
func (f *Feeder) End() FeedEnd { return f.onEnd }
