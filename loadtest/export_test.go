package loadtest

// SignedRankGreaterForTest exposes the signed-rank tail to the tests.
var SignedRankGreaterForTest = signedRankGreater

// PlanHashForTest is the plan hash a shard of p would record, or the
// plan's error.
func PlanHashForTest(p *Plan) (string, error) {
	ep, _, err := p.compile()
	if err != nil {
		return "", err
	}
	return planHash(p.wholePlan(ep), p.executor), nil
}

// ComparePairedForTest compares the first n pairs of d as a duet's look
// does (comparePaired with d's options and planned looks).
func ComparePairedForTest(d *DuetReport, n int) *Comparison {
	return comparePaired(d.A[:n], d.B[:n], d.Compare, d.PlannedLooks)
}
