package matchers

import (
	"fmt"
	"math"

	"github.com/onsi/gomega/types"
)

// HaveErrorRateBelow succeeds when failed/sent is at most rate, a
// fraction: 0.01 is 1 %. A rate of 1 or more (which would pass at a
// 100 % error rate, or is a percent) is refused with what was probably
// meant, as is a negative rate. An arrival rate's dropped iterations
// count: their requests were due and never sent, so each is a failure
// (failed+dropped)/(sent+dropped).
func HaveErrorRateBelow(rate float64) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveErrorRateBelow(%v)", rate), &errorRateMatcher{rate: rate})
}

type errorRateMatcher struct {
	rate float64
	s    *subject
	got  float64
}

func (m *errorRateMatcher) Match(actual any) (bool, error) {
	if err := checkRate(m.rate); err != nil {
		return false, err
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	if s.sent+s.droppedReqs == 0 {
		return false, fmt.Errorf("HaveErrorRateBelow: %s sent no request", s.name)
	}
	m.got = float64(s.failed+s.droppedReqs) / float64(s.sent+s.droppedReqs)
	return m.got <= m.rate, nil
}

func (m *errorRateMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected error rate of %s to be at most %.4g%%, but it is %.4g%%\n  %s\n  reasons:\n%s",
		m.s.name, m.rate*100, m.got*100, m.s.counts(), m.s.reasons(10))
}

func (m *errorRateMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected error rate of %s to be above %.4g%%, but it is %.4g%%\n  %s",
		m.s.name, m.rate*100, m.got*100, m.s.counts())
}

// checkRate refuses an error rate that is not a fraction below 1.
func checkRate(rate float64) error {
	switch {
	case math.IsNaN(rate) || rate < 0:
		return fmt.Errorf("HaveErrorRateBelow(%v): the rate is a fraction from 0 (no failure) to below 1; 0.01 is 1 %%", rate)
	case rate >= 1 && rate <= 100:
		return fmt.Errorf("HaveErrorRateBelow(%v): the rate is a fraction, and %v would pass at a 100 %% error rate; did you mean %v %% (HaveErrorRateBelow(%v))?", rate, rate, rate, rate/100)
	case rate > 100:
		return fmt.Errorf("HaveErrorRateBelow(%v): the rate is a fraction from 0 to below 1; 0.01 is 1 %%", rate)
	}
	return nil
}
