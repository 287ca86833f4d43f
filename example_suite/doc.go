// Package example_suite is a Ginkgo suite to copy into an application's
// repository: it starts the embedded demo application on loopback and
// load-tests it with benchgate specs. Run it with
//
//	go test ./example_suite/...    or    ginkgo ./example_suite
package example_suite
