package resolver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// ErrNoAutoTrust is returned by RefreshTrustAnchors when Config.AutoTrust
// is not set.
var ErrNoAutoTrust = errors.New("resolver: no RFC 5011 trust points configured")

// RefreshTrustAnchors runs the RFC 5011 active refresh (§2.3) once: for
// each trust point of Config.AutoTrust it fetches the zone's DNSKEY RRset
// from the zone's servers (never from the cache) and applies it. When a
// trust point changes, the zone's cached keys are dropped so the new
// trust applies from the next question. It returns how long to wait
// before the next refresh (the shortest over the trust points, per
// dnssec.RefreshInterval) and the errors met; it runs only when called,
// so a caller that never calls it sends nothing (no unscripted traffic).
func (r *Resolver) RefreshTrustAnchors(ctx context.Context) (time.Duration, error) {
	at := r.cfg.AutoTrust
	if at == nil {
		return 0, ErrNoAutoTrust
	}
	if !r.life.enter() {
		return 0, ErrClosed
	}
	defer r.life.leave()
	var next time.Duration
	var errs []error
	for _, zone := range at.Zones() {
		d, err := r.refreshTrustPoint(ctx, at, zone)
		if err != nil {
			errs = append(errs, err)
		}
		if next == 0 || d < next {
			next = d
		}
	}
	return next, errors.Join(errs...)
}

// refreshTrustPoint probes one zone.
func (r *Resolver) refreshTrustPoint(ctx context.Context, at *dnssec.AutoTrust, zone string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	rq := &request{r: r, start: r.cfg.Now(), class: dns.ClassINET, do: true}
	out, err := rq.lookup(ctx, zone, dns.TypeDNSKEY)
	if err == nil && out.kind != kindAnswer {
		err = fmt.Errorf("%s DNSKEY: %s", zone, out.kind)
	}
	if err != nil {
		return dnssec.RefreshInterval(0, nil, r.cfg.Now(), true), fmt.Errorf("refreshing the trust anchor of %s: %w", zone, err)
	}
	keys, sigs := dnskeys(out.answer), rrsigs(out.sigs, dns.TypeDNSKEY)
	var ttl uint32
	if len(keys) > 0 {
		ttl = keys[0].Hdr.Ttl
		for _, s := range sigs {
			ttl = max(ttl, s.OrigTtl)
		}
	}
	changed, uerr := at.Update(zone, keys, sigs, r.cfg.Now(), rq.budget())
	if changed {
		r.cache.Remove(zone, dns.TypeDNSKEY, dns.ClassINET)
		r.cache.ClearFailed(zone, dns.TypeDNSKEY, keyFailureClass)
		_, trusted := at.Anchors().Lookup(zone)
		r.cfg.Logger.Info("trust anchor updated (RFC 5011)", "zone", zone, "trusted_keys", len(trusted))
	}
	if uerr != nil {
		return dnssec.RefreshInterval(ttl, sigs, r.cfg.Now(), true), fmt.Errorf("refreshing the trust anchor of %s: %w", zone, uerr)
	}
	return dnssec.RefreshInterval(ttl, sigs, r.cfg.Now(), false), nil
}
