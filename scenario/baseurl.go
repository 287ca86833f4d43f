package scenario

import (
	"net/url"
	"strings"
)

// JoinURL resolves a step's URL ref against a base URL as Gatling's
// baseUrl and axios's baseURL do, not as a browser resolves a link: the
// base's path is a prefix that every relative step URL goes under.
//
//	base http://host/v1 (or /v1/) + /orders     → http://host/v1/orders
//	base http://host/v1           + orders      → http://host/v1/orders
//	base http://host/v1           + /orders?q=1 → http://host/v1/orders?q=1
//	base http://host/v1           + ?q=1 or ""  → http://host/v1?q=1, http://host/v1
//	base http://host/v1           + ../x        → http://host/x (dot segments are resolved)
//
// A step URL that is absolute (http://other/x) stays as it is; one that
// names a host (//other/x) takes the base's scheme. The query and
// fragment are the step's: a base URL has neither (Resolve refuses one).
func JoinURL(base, ref *url.URL) *url.URL {
	if base == nil || ref.IsAbs() {
		return ref
	}
	if ref.Host != "" || ref.Opaque != "" {
		return base.ResolveReference(ref)
	}
	path := base.EscapedPath()
	if rp := ref.EscapedPath(); rp != "" {
		path = strings.TrimRight(path, "/") + "/" + strings.TrimLeft(rp, "/")
	}
	if path == "" {
		path = "/"
	}
	// not url.Parse: a path that starts with "//" would be read as a host
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return base.ResolveReference(ref) // both parts were escaped paths: not reached
	}
	joined := &url.URL{Path: unescaped, RawPath: path}
	joined.RawQuery, joined.ForceQuery, joined.Fragment, joined.RawFragment = ref.RawQuery, ref.ForceQuery, ref.Fragment, ref.RawFragment
	// the path is absolute: resolving it against the base only removes
	// its dot segments and takes the base's scheme and host
	return base.ResolveReference(joined)
}
