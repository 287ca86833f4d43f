// Package parallel is a Ginkgo suite that runs one load plan as N
// shards on Ginkgo's parallel processes (ginkgo -p) and gates the
// merged report, to copy next to the shop suite (../example_suite).
//
// Ginkgo hands specs to its processes dynamically: which process runs
// which It is not fixed, and specs start whenever a process is free.
// Shards of one plan must instead run all at once, each its fixed part,
// from one start time. So the load runs in suite-level nodes, which
// every process runs exactly once:
//
//   - SynchronizedBeforeSuite: process 1 picks the common start T0 (now
//     plus a lead), a directory for the shards' reports and, when
//     BENCHGATE_APP_URL is not set, starts the demo shop; it hands them
//     to every process. Each process then runs its shard (shard
//     GinkgoParallelProcess()−1 of GinkgoConfiguration's ParallelTotal,
//     from T0) and writes its report there.
//   - Its specs (It) run as usual, spread over the processes.
//   - SynchronizedAfterSuite: once every process is done, process 1
//     merges the shards' reports (loadtest.Merge: exact, histograms
//     added) and gates the merged report with the matchers; a failure
//     there fails the suite.
//
// Run it with
//
//	go run github.com/onsi/ginkgo/v2/ginkgo -p --procs 3 ./example_parallel
//	go test ./example_parallel/...    (one process: shard 0 of 1, the whole plan)
//
// BENCHGATE_PARALLEL_MERGED, when set, names a file process 1 writes the
// merged report to.
package parallel
