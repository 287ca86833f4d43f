package loadtest

// SignedRankGreaterForTest exposes the signed-rank tail to the tests.
var SignedRankGreaterForTest = signedRankGreater
