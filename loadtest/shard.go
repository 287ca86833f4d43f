package loadtest

import (
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/benchgate/benchgate/engine"
)

// ShardManifest says which shard of which plan a Report is, and what
// Merge must find equal in every shard's report to add them up: the
// plan (PlanHash), the build that ran it (BinaryHash), the histograms'
// layout and the seed. It is filled by Execute when the plan ran with
// Shard(index, count).
type ShardManifest struct {
	// Index is the shard's number, from 0; Count the number of shards.
	Index int `json:"index"`
	Count int `json:"count"`
	// PlanHash is the SHA-256 (hex) of a canonical description of the
	// plan: its runs and their names, each step's method, URL, headers,
	// body and expectations, the repeat counts, the executor's type and
	// settings, concurrency, keep-alive, HTTP version, time limit and
	// For. It is the same in every shard of one plan (the segment, the
	// seed and functions are left out) and changes when any of those do.
	PlanHash string `json:"plan_hash"`
	// BinaryHash is the SHA-256 (hex) of the executable that ran the
	// shard ("" when it could not be read).
	BinaryHash string `json:"binary_hash,omitempty"`
	// Histogram is the layout of the report's latency histograms and
	// time windows.
	Histogram HistogramLayout `json:"histogram"`
	// Seed is the execution's seed (Report.Seed).
	Seed uint64 `json:"seed"`
	// Execution is a random id drawn for this shard's execution (128
	// bits, hex): two reports bearing one are one execution, which a
	// merge refuses to count as two shards (a report copied and its
	// index edited).
	Execution string `json:"execution,omitempty"`
	// Host and PID name the machine and process that ran the shard.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Start is the wall-clock instant the shard's execution began
	// (Report.Started).
	Start time.Time `json:"start"`
	// T0 is the start time handed to every shard (StartAt), zero when
	// none was; Skew is how late the shard's executor began its
	// schedule after T0 (its lateness: not when its first request was
	// due, which for an arrival rate's shard k is arrival k's place on
	// the schedule), zero without T0 or when it never began. Clock
	// describes the host's clock then (synchronised or not, its
	// estimated error: what bounds how far the shards' T0s agree).
	T0    time.Time     `json:"t0,omitzero"`
	Skew  time.Duration `json:"skew,omitempty"`
	Clock string        `json:"clock,omitempty"`
}

// String names the shard as "k/N" with k counted from 0, as Shard,
// BENCHGATE_SHARD and a Kubernetes completion index number it ("shard
// 0/4" is the first of four), like engine.Segment.
func (m *ShardManifest) String() string {
	if m == nil {
		return "whole"
	}
	return fmt.Sprintf("%d/%d", m.Index, m.Count)
}

// HistogramLayout is what defines the latency histograms (the
// HdrHistogram geometry: lowest and highest value, significant digits)
// and the length of the time windows. Reports of different layouts
// cannot be added up.
type HistogramLayout struct {
	// LowestMicros and HighestMicros are the smallest and largest value
	// a histogram tells apart, in microseconds; SignificantDigits its
	// precision (3: within 0.1%).
	LowestMicros      int64 `json:"lowest_us"`
	HighestMicros     int64 `json:"highest_us"`
	SignificantDigits int   `json:"significant_digits"`
	// Window is the length of each step's time windows (Report.Window).
	Window time.Duration `json:"window"`
}

// histogramLayout is this package's layout with windows of w.
func histogramLayout(w time.Duration) HistogramLayout {
	return HistogramLayout{LowestMicros: 1, HighestMicros: maxLatencyMicros, SignificantDigits: 3, Window: w}
}

// binaryHash is the SHA-256 of this process's executable, read once.
var binaryHash = sync.OnceValue(func() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
})

// newManifest is the manifest of shard seg of the plan hashed as hash,
// its report r (Started, Seed, Window set).
func newManifest(seg engine.Segment, hash string, r *Report, t0 time.Time) *ShardManifest {
	host, _ := os.Hostname()
	m := &ShardManifest{Index: seg.Index, Count: max(seg.Count, 1), PlanHash: hash,
		BinaryHash: binaryHash(), Histogram: histogramLayout(r.Window), Seed: r.Seed, Host: host, PID: os.Getpid(),
		Start: r.Started, Execution: executionID()}
	if !t0.IsZero() {
		m.T0, m.Skew = t0, r.Started.Sub(t0)
	}
	return m
}

// executionID draws a shard execution's id.
func executionID() string {
	var b [16]byte
	cryptorand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// planHash is the SHA-256 (hex) of a canonical description of what
// shapes the plan's traffic: ep without its segment, seed, live
// counters, resolver, secrets and request-log switch, and the executor.
func planHash(ep *engine.Plan, ex engine.Executor) string {
	c := *ep
	c.Segment, c.Seed, c.Live, c.Resolver, c.Secrets, c.RecordURLs = engine.Segment{}, 0, nil, nil, nil, false
	c.Start = time.Time{} // T0 is the manifest's own field
	w := &canonWriter{seen: map[uintptr]bool{}}
	w.value(reflect.ValueOf(&c).Elem(), 0)
	w.b.WriteString("\nexecutor ")
	w.value(reflect.ValueOf(&ex).Elem(), 0)
	h := sha256.Sum256([]byte(w.b.String()))
	return hex.EncodeToString(h[:])
}

// canonWriter writes a value's canonical description: its type's name
// and its content, fields by name, maps by sorted keys, pointers
// followed (once each), functions and channels by presence only. Types
// of benchgate's own packages are written field by field, unexported
// fields too (a template's parts, a feeder's rows); other packages'
// types by their String method when they have one (a regexp, a URL),
// otherwise by their exported fields: their inner state (locks, caches)
// is no setting.
type canonWriter struct {
	b    strings.Builder
	seen map[uintptr]bool
}

const canonMaxDepth = 40

var stringerType = reflect.TypeFor[fmt.Stringer]()

func ownType(t reflect.Type) bool {
	return strings.HasPrefix(t.PkgPath(), "github.com/benchgate/benchgate/")
}

func (w *canonWriter) value(v reflect.Value, depth int) {
	if depth > canonMaxDepth {
		w.b.WriteString("…")
		return
	}
	if !v.IsValid() {
		w.b.WriteString("nil")
		return
	}
	t := v.Type()
	if !v.CanInterface() && v.CanAddr() {
		// an unexported field: read it as what it is (a regexp kept
		// in one is a setting like any other)
		v = reflect.NewAt(t, unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	if t.PkgPath() != "" && !ownType(t) && t.Kind() != reflect.Interface && v.CanInterface() && t.Implements(stringerType) {
		if s, ok := safeString(v); ok {
			fmt.Fprintf(&w.b, "%s(%q)", t.String(), s)
			return
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		w.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		w.b.WriteString(strconv.FormatUint(math.Float64bits(v.Float()), 16))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		fmt.Fprintf(&w.b, "%x,%x", math.Float64bits(real(c)), math.Float64bits(imag(c)))
	case reflect.String:
		w.b.WriteString(strconv.Quote(v.String()))
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		if v.IsNil() {
			w.b.WriteString("nil")
		} else {
			w.b.WriteString(t.Kind().String())
		}
	case reflect.Interface:
		if v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		e := v.Elem()
		if e.CanInterface() {
			ne := reflect.New(e.Type()).Elem() // addressable: its fields readable
			ne.Set(e)
			e = ne
		}
		w.b.WriteString(typeName(e.Type()))
		w.b.WriteByte(':')
		w.value(e, depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		if w.seen[v.Pointer()] {
			w.b.WriteString("(seen)")
			return
		}
		w.seen[v.Pointer()] = true
		w.b.WriteByte('&')
		w.value(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		if t.Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(&w.b, "bytes(%d:%x)", v.Len(), bytesOf(v))
			return
		}
		fmt.Fprintf(&w.b, "[%d:", v.Len())
		for i := range v.Len() {
			w.value(v.Index(i), depth+1)
			w.b.WriteByte(',')
		}
		w.b.WriteByte(']')
	case reflect.Map:
		if v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		type kv struct{ k, v string }
		var items []kv
		for it := v.MapRange(); it.Next(); {
			kw := &canonWriter{seen: w.seen}
			kw.value(it.Key(), depth+1)
			vw := &canonWriter{seen: w.seen}
			vw.value(it.Value(), depth+1)
			items = append(items, kv{kw.b.String(), vw.b.String()})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].k < items[j].k })
		w.b.WriteString("{")
		for _, it := range items {
			w.b.WriteString(it.k + ":" + it.v + ",")
		}
		w.b.WriteString("}")
	case reflect.Struct:
		own := ownType(t)
		w.b.WriteString(typeName(t) + "{")
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !own {
				continue
			}
			w.b.WriteString(f.Name + ":")
			w.value(v.Field(i), depth+1)
			w.b.WriteByte(';')
		}
		w.b.WriteString("}")
	default:
		w.b.WriteString(t.Kind().String())
	}
}

func typeName(t reflect.Type) string {
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

// bytesOf is a byte slice or array's content, read without Interface
// (which unexported fields refuse).
func bytesOf(v reflect.Value) []byte {
	out := make([]byte, v.Len())
	for i := range out {
		out[i] = byte(v.Index(i).Uint())
	}
	return out
}

// safeString calls v's String method, which may panic on a nil receiver.
func safeString(v reflect.Value) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return "", false
	}
	return v.Interface().(fmt.Stringer).String(), true
}
