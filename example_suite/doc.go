// Package shop is a Ginkgo suite to copy into an application's
// repository: each spec declares runs of steps against the shop, sends
// them under load with benchgate, and gates the report with its
// matchers. Rename the package after your application and point the
// specs at your own pages.
//
// The suite tests the application at BENCHGATE_APP_URL when it is set
// (a deployed build, or one started in CI), and otherwise starts
// benchgate's demo shop on loopback and tests that. The duet spec in
// gate_test.go compares two builds that BENCHGATE_BASE_URL (the base
// branch's) and BENCHGATE_CANDIDATE_URL (the pull request's) name, and
// one in-process server with itself when neither is set. Run it with
//
//	go test ./example_suite/...    or    ginkgo ./example_suite
//	BENCHGATE_APP_URL=http://127.0.0.1:8080 go test ./example_suite/...
package shop
