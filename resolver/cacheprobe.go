package resolver

// MayAnswerFromCache reports whether a cache-only Query for req
// (Request.CacheOnly) might answer it: false is a plain miss of this
// process's cache for the question itself, where that Query would fail
// with ErrCacheMiss. It finds that without allocating, where Query's
// full path allocates a context, a request, a Result and wrapped errors
// per call: a server shedding a flood's misses asks this first, for
// every shed query, and nearly all of them are misses (#11). True when
// the cache holds something for the question (the answer, a CNAME or
// DNAME to follow, a negative answer), or when only the full path can
// tell (a shared cache is configured): the caller then asks Query, which
// looks again (a hit is counted in the metrics twice).
func (r *Resolver) MayAnswerFromCache(req Request) bool {
	if r.cfg.Shared != nil || req.Trace || req.Observer != nil || CheckRequest(&req) != nil {
		return true // the full path decides (and reports a bad request)
	}
	if !r.life.enter() {
		return true
	}
	defer r.life.leave()
	// The first step of Query's cache-only resolve (request.resolve), on
	// the stack; the miss is counted (not probe) as the full path would.
	rq := request{r: r, class: req.Class, cacheOnly: true, localOnly: true, do: req.DO, cd: req.CD}
	_, ok := rq.cacheAnswer(req.Name, req.Type)
	return ok
}
