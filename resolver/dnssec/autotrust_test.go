package dnssec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
)

// rollover is a zone's keys for the RFC 5011 tests: two KSKs, a ZSK and a
// key the attacker holds.
type rollover struct {
	ksk1, ksk2, zsk, evil *testKey
}

func newRollover(t *testing.T) rollover {
	return rollover{
		ksk1: newKey(t, "example.", dns.ECDSAP256SHA256, 256, dns.ZONE|dns.SEP, "ksk1"),
		ksk2: newKey(t, "example.", dns.ECDSAP256SHA256, 256, dns.ZONE|dns.SEP, "ksk2"),
		zsk:  newKey(t, "example.", dns.ECDSAP256SHA256, 256, dns.ZONE, "zsk"),
		evil: newKey(t, "example.", dns.ECDSAP256SHA256, 256, dns.ZONE|dns.SEP, "evil"),
	}
}

// revoked returns a copy of k with the REVOKE bit, signing as itself.
func revoked(k *testKey) *testKey {
	c := *k
	c.key = dns.Copy(k.key).(*dns.DNSKEY)
	c.key.Flags |= revokeFlag
	return &c
}

// publish returns the DNSKEY RRset of keys signed by signers, with
// signatures valid around at.
func publish(t *testing.T, at time.Time, keys []*testKey, signers ...*testKey) ([]*dns.DNSKEY, []*dns.RRSIG) {
	t.Helper()
	var set []*dns.DNSKEY
	var rrs []dns.RR
	for _, k := range keys {
		set = append(set, k.key)
		rrs = append(rrs, k.key)
	}
	var sigs []*dns.RRSIG
	for _, s := range signers {
		sigs = append(sigs, s.sign(t, rrs, func(r *dns.RRSIG) {
			r.Inception, r.Expiration = uint32(at.Add(-time.Hour).Unix()), uint32(at.Add(10*24*time.Hour).Unix())
		}))
	}
	return set, sigs
}

// anyOrder compares state lists as sets: key tags are random.
var anyOrder = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// states summarises a trust point as "STATE key-prefix" strings.
func states(tp *TrustPoint) []string {
	keys := append([]AutoKey(nil), tp.Keys...)
	sortKeys(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k.State.String()+" "+k.Key.String()[len(k.Key.Hdr.String()):][:12])
	}
	return out
}

func tagState(k *testKey, s KeyState) string {
	return s.String() + " " + k.key.String()[len(k.key.Hdr.String()):][:12]
}

// TestTrustPointRollover walks a KSK rollover the RFC 5011 way: seed from
// a DS, a new key held down for 30 days, the old key revoked and later
// forgotten.
func TestTrustPointRollover(t *testing.T) {
	z := newRollover(t)
	tp := &TrustPoint{Zone: "example.", Seed: []*dns.DS{z.ksk1.key.ToDS(dns.SHA256)}}
	day := 24 * time.Hour
	t0 := testNow
	steps := []struct {
		name    string
		at      time.Time
		keys    []*testKey
		signers []*testKey
		want    []string
		wantErr error
	}{
		{"seeded by the DS", t0, []*testKey{z.ksk1, z.zsk}, []*testKey{z.ksk1},
			[]string{tagState(z.ksk1, KeyValid)}, nil},
		{"new KSK pending", t0.Add(day), []*testKey{z.ksk1, z.ksk2, z.zsk}, []*testKey{z.ksk1},
			[]string{tagState(z.ksk1, KeyValid), tagState(z.ksk2, KeyAddPend)}, nil},
		{"still pending after 20 days", t0.Add(21 * day), []*testKey{z.ksk1, z.ksk2, z.zsk}, []*testKey{z.ksk1},
			[]string{tagState(z.ksk1, KeyValid), tagState(z.ksk2, KeyAddPend)}, nil},
		{"an attacker's RRset changes nothing", t0.Add(22 * day), []*testKey{z.evil, z.zsk}, []*testKey{z.evil},
			[]string{tagState(z.ksk1, KeyValid), tagState(z.ksk2, KeyAddPend)}, ErrTrustPoint},
		{"trusted after the hold-down", t0.Add(31*day + time.Hour), []*testKey{z.ksk1, z.ksk2, z.zsk}, []*testKey{z.ksk1},
			[]string{tagState(z.ksk1, KeyValid), tagState(z.ksk2, KeyValid)}, nil},
		{"old key revoked", t0.Add(32 * day), []*testKey{revoked(z.ksk1), z.ksk2, z.zsk}, []*testKey{revoked(z.ksk1), z.ksk2},
			[]string{tagState(z.ksk1, KeyRevoked), tagState(z.ksk2, KeyValid)}, nil},
		{"revoked key forgotten after the remove hold-down", t0.Add(63 * day), []*testKey{z.ksk2, z.zsk}, []*testKey{z.ksk2},
			[]string{tagState(z.ksk2, KeyValid)}, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			set, sigs := publish(t, st.at, st.keys, st.signers...)
			_, err := tp.Update(set, sigs, st.at, nil)
			if !errors.Is(err, st.wantErr) || (err == nil) != (st.wantErr == nil) {
				t.Errorf("Update: %v, want %v", err, st.wantErr)
			}
			if diff := cmp.Diff(st.want, states(tp), anyOrder); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
		})
	}
	if len(tp.Seed) != 0 {
		t.Errorf("seed DS kept after the keys took over: %v", tp.Seed)
	}
}

func TestTrustPointTransitions(t *testing.T) {
	z := newRollover(t)
	day := 24 * time.Hour
	valid := func() *TrustPoint {
		return &TrustPoint{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyValid, Since: testNow}}}
	}
	tests := []struct {
		name        string
		tp          *TrustPoint
		keys        []*testKey
		signers     []*testKey
		want        []string
		wantErr     bool
		wantChanged bool
		wantTrusted int
	}{
		{name: "unchanged", tp: valid(), keys: []*testKey{z.ksk1, z.zsk}, signers: []*testKey{z.ksk1},
			want: []string{tagState(z.ksk1, KeyValid)}, wantTrusted: 1},
		{name: "pending key that disappears is forgotten",
			tp: &TrustPoint{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyValid, Since: testNow},
				{Key: z.ksk2.key, State: KeyAddPend, Since: testNow}}},
			keys: []*testKey{z.ksk1, z.zsk}, signers: []*testKey{z.ksk1},
			want: []string{tagState(z.ksk1, KeyValid)}, wantChanged: true, wantTrusted: 1},
		{name: "valid key absent becomes missing, still trusted",
			tp: &TrustPoint{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyValid, Since: testNow},
				{Key: z.ksk2.key, State: KeyValid, Since: testNow}}},
			keys: []*testKey{z.ksk1, z.zsk}, signers: []*testKey{z.ksk1},
			want: []string{tagState(z.ksk1, KeyValid), tagState(z.ksk2, KeyMissing)}, wantChanged: true, wantTrusted: 2},
		{name: "missing key returns",
			tp:   &TrustPoint{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyMissing, Since: testNow}}},
			keys: []*testKey{z.ksk1, z.zsk}, signers: []*testKey{z.ksk1},
			want: []string{tagState(z.ksk1, KeyValid)}, wantChanged: true, wantTrusted: 1},
		{name: "revoking the only key: revoked, nothing trusted, RRset not validated", tp: valid(),
			keys: []*testKey{revoked(z.ksk1), z.zsk}, signers: []*testKey{revoked(z.ksk1)},
			want: []string{tagState(z.ksk1, KeyRevoked)}, wantErr: true, wantChanged: true},
		{name: "REVOKE bit without its own signature proves nothing", tp: valid(),
			keys: []*testKey{revoked(z.ksk1), z.ksk2, z.zsk}, signers: []*testKey{z.evil},
			want: []string{tagState(z.ksk1, KeyValid)}, wantErr: true, wantTrusted: 1},
		{name: "revoked key reappearing unrevoked stays revoked",
			tp: &TrustPoint{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyRevoked, Since: testNow},
				{Key: z.ksk2.key, State: KeyValid, Since: testNow}}},
			keys: []*testKey{z.ksk1, z.ksk2, z.zsk}, signers: []*testKey{z.ksk2},
			want: []string{tagState(z.ksk1, KeyRevoked), tagState(z.ksk2, KeyValid)}, wantTrusted: 1},
		{name: "ZSKs are not trust anchors", tp: valid(), keys: []*testKey{z.ksk1, z.zsk}, signers: []*testKey{z.ksk1, z.zsk},
			want: []string{tagState(z.ksk1, KeyValid)}, wantTrusted: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := testNow.Add(day)
			set, sigs := publish(t, at, tc.keys, tc.signers...)
			changed, err := tc.tp.Update(set, sigs, at, nil)
			if (err != nil) != tc.wantErr || changed != tc.wantChanged {
				t.Errorf("Update: changed %v, err %v; want changed %v, error %v", changed, err, tc.wantChanged, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, states(tc.tp), anyOrder); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if got := len(tc.tp.Trusted()); got != tc.wantTrusted {
				t.Errorf("%d trusted keys, want %d", got, tc.wantTrusted)
			}
		})
	}
}

func TestTrustPointFile(t *testing.T) {
	z := newRollover(t)
	since := testNow.Truncate(time.Second)
	tps := []*TrustPoint{
		{Zone: ".", Seed: []*dns.DS{RootAnchors().ds["."][0]}},
		{Zone: "example.", Keys: []AutoKey{{Key: z.ksk1.key, State: KeyValid, Since: since}, {Key: z.ksk2.key, State: KeyAddPend, Since: since}}},
	}
	var buf bytes.Buffer
	if err := WriteTrustPoints(&buf, tps); err != nil {
		t.Fatal(err)
	}
	got, err := ParseTrustPoints(buf.String(), testNow)
	if err != nil {
		t.Fatalf("ParseTrustPoints: %v\n%s", err, buf.String())
	}
	var again bytes.Buffer
	if err := WriteTrustPoints(&again, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(buf.String(), again.String()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if len(got) != 2 || len(got[1].Keys) != 2 {
		t.Fatalf("parsed %+v", got)
	}
	for _, k := range got[1].Keys {
		if want := map[bool]KeyState{true: KeyValid, false: KeyAddPend}[sameKey(k.Key, z.ksk1.key)]; k.State != want || !k.Since.Equal(since) {
			t.Errorf("key %d: %v since %v, want %v since %v", k.Key.KeyTag(), k.State, k.Since, want, since)
		}
	}
	// Plain anchors: DS seeds, DNSKEY is Valid.
	plain, err := ParseTrustPoints(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"+z.ksk1.key.String()+"\n", testNow)
	if err != nil || len(plain) != 2 || len(plain[0].Seed) != 1 || len(plain[1].Keys) != 1 || plain[1].Keys[0].State != KeyValid {
		t.Errorf("plain anchors: %+v, %v", plain, err)
	}
	for _, bad := range []string{
		"example. IN A 192.0.2.1\n",
		z.ksk1.key.String() + " ; state=SOMETIMES\n",
		z.ksk1.key.String() + " ; state=VALID since=yesterday\n",
	} {
		if _, err := ParseTrustPoints(bad, testNow); err == nil {
			t.Errorf("ParseTrustPoints(%q): no error", bad)
		}
	}
}

func TestRefreshInterval(t *testing.T) {
	sig := func(left time.Duration) []*dns.RRSIG {
		return []*dns.RRSIG{{Expiration: uint32(testNow.Add(left).Unix())}}
	}
	tests := []struct {
		name   string
		ttl    uint32
		sigs   []*dns.RRSIG
		failed bool
		want   time.Duration
	}{
		{"half the TTL", 2 * 86400, sig(30 * 24 * time.Hour), false, 24 * time.Hour},
		{"half the signature lifetime", 30 * 86400, sig(4 * 24 * time.Hour), false, 2 * 24 * time.Hour},
		{"at least an hour", 600, nil, false, time.Hour},
		{"at most 15 days", 90 * 86400, nil, false, 15 * 24 * time.Hour},
		{"retry: a tenth", 5 * 86400, nil, true, 12 * time.Hour},
		{"retry: at most a day", 30 * 86400, nil, true, 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RefreshInterval(tc.ttl, tc.sigs, testNow, tc.failed); got != tc.want {
				t.Errorf("RefreshInterval = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAutoTrustSaveError checks that a state file that cannot be written
// is reported while the new trust still takes effect in memory.
func TestAutoTrustSaveError(t *testing.T) {
	z := newRollover(t)
	at := NewAutoTrust([]*TrustPoint{{Zone: "example.", Seed: []*dns.DS{z.ksk1.key.ToDS(dns.SHA256)}}},
		func([]*TrustPoint) error { return errors.New("disk full") })
	set, sigs := publish(t, testNow, []*testKey{z.ksk1, z.zsk}, z.ksk1)
	changed, err := at.Update("example.", set, sigs, testNow, nil)
	if !changed || err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Update: changed %v, err %v; want changed and the save error", changed, err)
	}
	if _, keys := at.Anchors().Lookup("example."); len(keys) != 1 || !sameKey(keys[0], z.ksk1.key) {
		t.Errorf("published keys %v, want the seeded KSK", keys)
	}
	if _, err := at.Update("other.", set, sigs, testNow, nil); !errors.Is(err, ErrTrustPoint) {
		t.Errorf("unknown zone: %v, want ErrTrustPoint", err)
	}
}
