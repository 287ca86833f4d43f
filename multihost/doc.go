// Package multihost holds the test that runs one plan as shards from
// several hosts for real: N generator hosts and one target host, each a
// Linux network namespace with an address of its own on a bridge, the
// shards the test binary re-executed inside the generators' namespaces
// (the shard contract in the environment: BENCHGATE_SHARD,
// BENCHGATE_SHARDS, BENCHGATE_T0, BENCHGATE_OUT), their reports merged
// (loadtest.Merge) and gated, and one shard killed mid-run to show
// what the merge makes of a shard that died. It needs root (or
// CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's ip; without them it
// skips, saying why, unless BENCHGATE_REQUIRE_NETNS=1 (set by CI),
// which makes the skip a failure.
//
// The package has no API: it is the test.
package multihost
