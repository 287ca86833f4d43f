package loadtest

import (
	"math"
	"slices"
	"sync"
)

// The interval estimates of the gate. Both work on logarithms of the
// per-execution (or per-round) figures, so a shift is a ratio and the
// change is relative: exp(shift) - 1.
//
// Why these: the figures compared are few (5 to 20 executions, 10 to 100
// pairs), their distribution is unknown and skewed (a busy moment makes
// an execution much slower, never much faster), and a false alarm must
// stay at the stated rate whatever that distribution is. The
// Hodges–Lehmann estimate with the exact rank-sum (two samples) or
// signed-rank (pairs) interval needs only exchangeability under no
// change (stored executions of one build in any order; a pair's two
// sides in a random order), its coverage is exact at any sample size
// (up to ties), and one interval gives all three verdicts. A t interval
// assumes normality that a single busy execution breaks; a bootstrap
// over 5 executions undercovers.

// rankSumCache holds the null distributions of the Mann–Whitney count.
var rankSumCache sync.Map // [2]int -> []float64

// rankSumCDF returns P(U ≤ u) for u = 0..n·m, where U counts the pairs
// (x_i, y_j) with y_j > x_i of two samples of n and m from one
// continuous distribution. Exact (Gaussian binomial coefficients) while
// n·m ≤ 4000, else nil.
func rankSumCDF(n, m int) []float64 {
	if n > m {
		n, m = m, n // U's distribution is symmetric in n and m
	}
	key := [2]int{n, m}
	if v, ok := rankSumCache.Load(key); ok {
		return v.([]float64)
	}
	if n*m > 4000 {
		return nil
	}
	// f[j][u]: arrangements of i x's and j y's with U = u; row by row in i.
	f := make([][]float64, m+1)
	for j := range f {
		f[j] = make([]float64, n*m+1)
	}
	for j := 0; j <= m; j++ {
		f[j][0] = 1 // i = 0: every y is below no x
	}
	for i := 1; i <= n; i++ {
		// f(i, j) = f(i-1, j) [the largest is an x] + f(i, j-1) shifted by i [the largest is a y]
		for j := 1; j <= m; j++ {
			row, prev := f[j], f[j-1]
			for u := n * m; u >= i; u-- {
				row[u] += prev[u-i]
			}
		}
	}
	dist := f[m]
	var total float64
	for _, c := range dist {
		total += c
	}
	cdf := make([]float64, len(dist))
	var acc float64
	for u, c := range dist {
		acc += c
		cdf[u] = acc / total
	}
	rankSumCache.Store(key, cdf)
	return cdf
}

var signedRankCache sync.Map // int -> []float64

// signedRankCDF returns P(T ≤ t) for t = 0..n(n+1)/2, T the sum of the
// ranks of the positive differences among n symmetric about zero.
// Exact while n ≤ 400, else nil.
func signedRankCDF(n int) []float64 {
	if v, ok := signedRankCache.Load(n); ok {
		return v.([]float64)
	}
	if n > 400 {
		return nil
	}
	total := n * (n + 1) / 2
	c := make([]float64, total+1)
	c[0] = 1
	for r := 1; r <= n; r++ {
		for w := total; w >= r; w-- {
			c[w] += c[w-r]
		}
	}
	cdf := make([]float64, total+1)
	var acc float64
	scale := math.Pow(2, -float64(n))
	for w, x := range c {
		acc += x * scale
		cdf[w] = acc
	}
	signedRankCache.Store(n, cdf)
	return cdf
}

// criticalCount returns the largest k with P(S ≤ k-1) ≤ alpha for a
// statistic of the given CDF (0 when even P(S ≤ 0) > alpha: no bound).
// Without an exact CDF it uses the normal approximation of a statistic
// of the given mean and variance.
func criticalCount(cdf []float64, alpha, mean, variance float64) int {
	if cdf != nil {
		k := 0
		for k < len(cdf) && cdf[k] <= alpha*(1+1e-12) {
			k++
		}
		return k
	}
	// P(S ≤ k-1) ≈ Φ((k-1+0.5-mean)/sd) ≤ alpha
	k := int(math.Floor(mean + math.Sqrt(variance)*normalQuantile(alpha) + 0.5))
	return max(k, 0)
}

// normalQuantile is the standard normal quantile function.
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// Interval is an estimate of a shift in logarithms with its confidence
// interval; Low and High are ±Inf when the data cannot bound it.
type interval struct {
	Est, Low, High float64
	// P is the one-sided p-value of "the shift is above zero" (1 when
	// none could be computed).
	P float64
	// untested says no test could be made (P is 1 for either side)
	untested bool
}

// shiftInterval estimates the shift of y over x (two independent
// samples): the Hodges–Lehmann estimate (the median of all differences
// y_j - x_i) and the exact distribution-free interval of one-sided
// level alpha on each side (two-sided 1-2·alpha), the differences of
// ranks k and nm+1-k, with k from the Mann–Whitney distribution.
func shiftInterval(x, y []float64, alpha float64) interval {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return interval{Est: math.NaN(), Low: math.Inf(-1), High: math.Inf(1), P: 1}
	}
	d := make([]float64, 0, n*m)
	above, ties := 0, 0
	for _, yj := range y {
		for _, xi := range x {
			v := yj - xi
			d = append(d, v)
			if v > 0 {
				above++
			} else if v == 0 {
				ties++
			}
		}
	}
	slices.Sort(d)
	iv := interval{Est: medianSorted(d), Low: math.Inf(-1), High: math.Inf(1), P: 1}
	nm := n * m
	mean, variance := float64(nm)/2, float64(nm*(n+m+1))/12
	cdf := rankSumCDF(n, m)
	if k := criticalCount(cdf, alpha, mean, variance); k >= 1 && k <= nm/2+1 && k <= nm {
		iv.Low, iv.High = d[k-1], d[nm-k]
	}
	// P(U ≥ observed), ties counting half, by the symmetry U ~ nm - U
	obs := float64(above) + float64(ties)/2
	below := float64(nm) - obs // P(U ≥ obs) = P(U ≤ nm - obs)
	if cdf != nil {
		iv.P = cdf[int(math.Floor(below+1e-9))]
	} else {
		iv.P = normalCDF((below + 0.5 - mean) / math.Sqrt(variance))
	}
	return iv
}

// pairedInterval estimates the centre of the paired differences d: the
// Hodges–Lehmann estimate (the median of the Walsh averages
// (d_i + d_j)/2, i ≤ j) and the exact interval of the Wilcoxon
// signed-rank test, of one-sided level alpha on each side.
func pairedInterval(d []float64, alpha float64) interval {
	n := len(d)
	if n == 0 {
		return interval{Est: math.NaN(), Low: math.Inf(-1), High: math.Inf(1), P: 1}
	}
	w := make([]float64, 0, n*(n+1)/2)
	for i := range d {
		for j := i; j < n; j++ {
			w = append(w, (d[i]+d[j])/2)
		}
	}
	slices.Sort(w)
	N := len(w)
	iv := interval{Est: medianSorted(w), Low: math.Inf(-1), High: math.Inf(1), P: signedRankGreater(d)}
	mean, variance := float64(N)/2, float64(n*(n+1)*(2*n+1))/24
	if k := criticalCount(signedRankCDF(n), alpha, mean, variance); k >= 1 && k <= N/2+1 && k <= N {
		iv.Low, iv.High = w[k-1], w[N-k]
	}
	return iv
}

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func medianSorted(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// minRankSumSize returns the fewest executions m a candidate side needs
// beside n stored ones for an interval bounded at one-sided level alpha
// (0 when none up to 50 will do).
func minRankSumSize(n int, alpha float64) int {
	for m := 1; m <= 50; m++ {
		if cdf := rankSumCDF(n, m); cdf == nil || cdf[0] <= alpha {
			return m
		}
	}
	return 0
}

// minPairs returns the fewest pairs that can bound a signed-rank
// interval at one-sided level alpha (2^-n ≤ alpha).
func minPairs(alpha float64) int {
	return max(1, int(math.Ceil(math.Log2(1/alpha)-1e-9)))
}
