package dnssec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Automated updates of trust anchors (RFC 5011): a trust point follows a
// zone's key rollovers by looking at the zone's own DNSKEY RRset, as long
// as a key it already trusts signs that RRset. A new key is trusted only
// after it has been seen for the add hold-down time; a key that revokes
// itself is never trusted again.

// Hold-down times (RFC 5011 §2.4.1, §2.4.2): 30 days, so that an attacker
// who stole a key and can fake the zone's answers for less than a month
// cannot get a key of their own trusted.
const (
	AddHoldDown    = 30 * 24 * time.Hour
	RemoveHoldDown = 30 * 24 * time.Hour
)

// maxTrustPointKeys bounds the keys one trust point tracks: a rollover
// involves two or three KSKs; a zone publishing hundreds of SEP keys at us
// must not grow the state (or the state file) without bound.
const maxTrustPointKeys = 64

// revokeFlag is the REVOKE bit of the DNSKEY flags (RFC 5011 §7).
const revokeFlag = 0x0080

// KeyState is the state of a key of a trust point (RFC 5011 §4).
type KeyState uint8

// The key states. Start (unknown) keys are not kept; Removed keys are
// forgotten.
const (
	KeyAddPend KeyState = iota + 1 // seen, waiting for the add hold-down
	KeyValid                       // trusted
	KeyMissing                     // trusted, but absent from the zone's last RRset
	KeyRevoked                     // revoked itself; never trusted again
)

var keyStateNames = map[KeyState]string{KeyAddPend: "ADDPEND", KeyValid: "VALID", KeyMissing: "MISSING", KeyRevoked: "REVOKED"}

func (s KeyState) String() string {
	if n, ok := keyStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("KeyState(%d)", uint8(s))
}

// AutoKey is one key of a trust point and its state.
type AutoKey struct {
	Key   *dns.DNSKEY // without the REVOKE bit
	State KeyState
	Since time.Time // when it entered State (the hold-down timers count from here)
}

// TrustPoint is the RFC 5011 state of one zone's trust anchor. Seed holds
// configured DS records not yet matched to a key (the first validated
// DNSKEY RRset turns the keys they match into Valid keys). It is not safe
// for concurrent use; the caller serialises Update.
type TrustPoint struct {
	Zone string
	Seed []*dns.DS
	Keys []AutoKey
}

// ErrTrustPoint is returned when a DNSKEY RRset cannot update a trust
// point: it is not signed by a key the trust point trusts.
var ErrTrustPoint = errors.New("dnssec: DNSKEY RRset not validated by the trust point")

// Trusted returns the keys to validate the zone with: Valid and Missing
// keys (RFC 5011 §4).
func (tp *TrustPoint) Trusted() []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range tp.Keys {
		if k.State == KeyValid || k.State == KeyMissing {
			out = append(out, dns.Copy(k.Key).(*dns.DNSKEY))
		}
	}
	return out
}

// Update applies the zone's current DNSKEY RRset, with its signatures, at
// time now (RFC 5011 §2.3, §4). The RRset must be validated by a trusted
// key, or while seeding by a key a Seed DS matches; otherwise nothing
// changes and the error says why. changed reports whether any state
// changed (the caller then persists the trust point).
//
// The transitions: a new SEP key becomes AddPend, and Valid once seen for
// max(AddHoldDown, the RRset's TTL); a trusted key absent from the RRset
// becomes Missing, and Valid again when it returns; an AddPend key that
// disappears is forgotten; a key published with the REVOKE bit that signs
// the RRset with that revoked form becomes Revoked, whatever its state,
// and is forgotten RemoveHoldDown later.
func (tp *TrustPoint) Update(rrset []*dns.DNSKEY, sigs []*dns.RRSIG, now time.Time, budget *Budget) (changed bool, err error) {
	if len(rrset) == 0 {
		return false, fmt.Errorf("%w: no DNSKEY RRset for %s", ErrTrustPoint, tp.Zone)
	}
	set := make([]dns.RR, len(rrset))
	for i, k := range rrset {
		set[i] = k
	}
	seen := map[int]bool{} // indexes into tp.Keys present in the RRset
	// Revocations first (RFC 5011 §2.1): a key that signs the RRset in its
	// revoked form proves its own revocation, even when no other trusted
	// key is left to validate the RRset.
	for _, k := range rrset {
		if k.Flags&revokeFlag == 0 || k.Flags&dns.SEP == 0 || !selfSigned(k, set, sigs, now, budget) {
			continue // a REVOKE bit without its own signature proves nothing
		}
		i := tp.find(k)
		if i < 0 {
			continue // not a key of ours: nothing to revoke
		}
		seen[i] = true
		if tp.Keys[i].State != KeyRevoked {
			tp.Keys[i].State, tp.Keys[i].Since, changed = KeyRevoked, now, true
		}
	}
	if _, err := VerifyDNSKEY(rrset, sigs, tp.Seed, tp.Trusted(), now, budget); err != nil {
		return changed, fmt.Errorf("%w: %s: %w", ErrTrustPoint, tp.Zone, err)
	}
	for _, k := range rrset {
		if k.Flags&dns.SEP == 0 || k.Flags&dns.ZONE == 0 || k.Flags&revokeFlag != 0 {
			continue // only key-signing keys are trust anchors (RFC 5011 §5)
		}
		i := tp.find(k)
		if i < 0 {
			if len(tp.Keys) >= maxTrustPointKeys {
				continue
			}
			state := KeyAddPend
			if tp.seedMatches(k) {
				state = KeyValid // vouched for by the configured DS
			}
			tp.Keys = append(tp.Keys, AutoKey{Key: dns.Copy(k).(*dns.DNSKEY), State: state, Since: now})
			seen[len(tp.Keys)-1], changed = true, true
			continue
		}
		seen[i] = true
		ak := &tp.Keys[i]
		switch {
		case ak.State == KeyMissing:
			ak.State, ak.Since, changed = KeyValid, now, true
		case ak.State == KeyAddPend && now.Sub(ak.Since) >= max(AddHoldDown, time.Duration(k.Hdr.Ttl)*time.Second):
			ak.State, ak.Since, changed = KeyValid, now, true
		}
	}
	kept := tp.Keys[:0]
	for i, ak := range tp.Keys {
		switch {
		case ak.State == KeyRevoked && now.Sub(ak.Since) >= RemoveHoldDown:
			changed = true
			continue // Removed
		case seen[i]:
		case ak.State == KeyAddPend:
			changed = true
			continue // gone before its hold-down ended: forgotten (Start)
		case ak.State == KeyValid:
			ak.State, ak.Since, changed = KeyMissing, now, true
		}
		kept = append(kept, ak)
	}
	tp.Keys = kept
	if len(tp.Seed) > 0 && len(tp.Trusted()) > 0 {
		tp.Seed, changed = nil, true // the keys took over from the DS
	}
	return changed, nil
}

// find returns the index of the key with k's material (the REVOKE bit
// aside), or -1.
func (tp *TrustPoint) find(k *dns.DNSKEY) int {
	for i, ak := range tp.Keys {
		if sameKey(ak.Key, k) {
			return i
		}
	}
	return -1
}

// seedMatches reports whether a Seed DS matches k.
func (tp *TrustPoint) seedMatches(k *dns.DNSKEY) bool {
	for _, d := range tp.Seed {
		if kd := k.ToDS(d.DigestType); kd != nil && d.KeyTag == kd.KeyTag && d.Algorithm == kd.Algorithm &&
			strings.EqualFold(d.Digest, kd.Digest) {
			return true
		}
	}
	return false
}

// sameKey compares the key material: algorithm and public key.
func sameKey(a, b *dns.DNSKEY) bool {
	return a.Algorithm == b.Algorithm && a.Protocol == b.Protocol &&
		strings.ReplaceAll(a.PublicKey, " ", "") == strings.ReplaceAll(b.PublicKey, " ", "")
}

// selfSigned reports whether the revoked key k signed the RRset set.
func selfSigned(k *dns.DNSKEY, set []dns.RR, sigs []*dns.RRSIG, now time.Time, budget *Budget) bool {
	var own []*dns.RRSIG
	for _, s := range sigs {
		if s.KeyTag == k.KeyTag() && s.Algorithm == k.Algorithm {
			own = append(own, s)
		}
	}
	if len(own) == 0 {
		return false
	}
	_, err := VerifyRRset(set, own, []*dns.DNSKEY{k}, now, budget)
	return err == nil
}

// RefreshInterval is how long to wait before the next probe of the zone's
// DNSKEY RRset (RFC 5011 §2.3): after a success, half the RRset's original
// TTL or half the time until its signatures expire, whichever is shorter,
// but at least an hour and at most 15 days; after a failure a tenth of
// those, at least an hour and at most a day.
func RefreshInterval(ttl uint32, sigs []*dns.RRSIG, now time.Time, failed bool) time.Duration {
	base := time.Duration(ttl) * time.Second
	for _, s := range sigs {
		if left := time.Duration(int32(s.Expiration-uint32(now.Unix()))) * time.Second; left > 0 && (base == 0 || left < base) {
			base = left
		}
	}
	if failed {
		return min(max(base/10, time.Hour), 24*time.Hour)
	}
	return min(max(base/2, time.Hour), 15*24*time.Hour)
}

// sortKeys orders keys by tag then state, for stable output.
func sortKeys(keys []AutoKey) {
	slices.SortStableFunc(keys, func(a, b AutoKey) int {
		if d := int(a.Key.KeyTag()) - int(b.Key.KeyTag()); d != 0 {
			return d
		}
		return int(a.State) - int(b.State)
	})
}

// AutoTrust is a set of RFC 5011 trust points and the anchors they
// publish. Update applies a zone's DNSKEY RRset, republishes what the
// zone's trust point trusts and, when its state changed, calls save (the
// state file). It is safe for concurrent use.
type AutoTrust struct {
	mu      sync.Mutex // serialises updates and saves
	points  map[string]*TrustPoint
	anchors *Anchors
	save    func([]*TrustPoint) error
}

// NewAutoTrust manages points; save, if not nil, persists them after each
// change.
func NewAutoTrust(points []*TrustPoint, save func([]*TrustPoint) error) *AutoTrust {
	a := &AutoTrust{points: map[string]*TrustPoint{}, anchors: &Anchors{ds: map[string][]*dns.DS{}, keys: map[string][]*dns.DNSKEY{}}, save: save}
	for _, tp := range points {
		tp.Zone = dns.CanonicalName(tp.Zone)
		a.points[tp.Zone] = tp
	}
	AnchorsOf(a.anchors, points)
	return a
}

// Anchors returns the anchors the trust points publish; they change as
// Update runs.
func (a *AutoTrust) Anchors() *Anchors { return a.anchors }

// Zones returns the zones of the trust points in canonical order.
func (a *AutoTrust) Zones() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	zs := make([]string, 0, len(a.points))
	for z := range a.points {
		zs = append(zs, z)
	}
	slices.SortFunc(zs, compareNames)
	return zs
}

// Points returns copies of the trust points, for display.
func (a *AutoTrust) Points() []TrustPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []TrustPoint
	for _, z := range slices.SortedFunc(maps.Keys(a.points), compareNames) {
		tp := a.points[z]
		out = append(out, TrustPoint{Zone: tp.Zone, Seed: slices.Clone(tp.Seed), Keys: slices.Clone(tp.Keys)})
	}
	return out
}

// Update applies zone's DNSKEY RRset to its trust point (see
// TrustPoint.Update) and publishes the result.
func (a *AutoTrust) Update(zone string, rrset []*dns.DNSKEY, sigs []*dns.RRSIG, now time.Time, budget *Budget) (changed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tp := a.points[dns.CanonicalName(zone)]
	if tp == nil {
		return false, fmt.Errorf("%w: no trust point for %s", ErrTrustPoint, zone)
	}
	changed, err = tp.Update(rrset, sigs, now, budget)
	if !changed {
		return false, err
	}
	a.anchors.Set(tp.Zone, tp.Seed, tp.Trusted())
	if a.save != nil {
		all := make([]*TrustPoint, 0, len(a.points))
		for _, z := range slices.SortedFunc(maps.Keys(a.points), compareNames) {
			all = append(all, a.points[z])
		}
		if serr := a.save(all); serr != nil {
			return true, errors.Join(err, fmt.Errorf("dnssec: saving trust anchor state: %w", serr))
		}
	}
	return true, err
}
