package dial

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// resolver resolves each host once per shard (each shard has a cache
// of its own, as each process of a multi-process run will) and caches
// the address; overrides send a host name to a chosen address while
// requests keep the name.
type resolver struct {
	mu       sync.Mutex
	cache    map[shardHost]string
	override map[string]string
	dns      *net.Resolver
}

func newResolver(override map[string]string, dns *net.Resolver) *resolver {
	if dns == nil {
		dns = net.DefaultResolver
	}
	return &resolver{cache: map[shardHost]string{}, override: override, dns: dns}
}

type shardHost struct {
	shard int
	host  string
}

// lookup returns host:port to dial for host and port.
func (r *resolver) lookup(ctx context.Context, shard int, host, port string) (addr string, cached bool, err error) {
	if a, ok := r.override[host]; ok {
		if _, _, err := net.SplitHostPort(a); err == nil {
			return a, true, nil
		}
		return net.JoinHostPort(a, port), true, nil
	}
	if net.ParseIP(host) != nil {
		return net.JoinHostPort(host, port), false, nil
	}
	key := shardHost{shard, host}
	r.mu.Lock()
	ip, ok := r.cache[key]
	r.mu.Unlock()
	if ok {
		return net.JoinHostPort(ip, port), true, nil
	}
	ips, err := r.dns.LookupHost(ctx, host)
	if err != nil {
		return "", false, err
	}
	if len(ips) == 0 {
		return "", false, fmt.Errorf("lookup %s: no addresses", host)
	}
	r.mu.Lock()
	r.cache[key] = ips[0]
	r.mu.Unlock()
	return net.JoinHostPort(ips[0], port), false, nil
}
