package report

import (
	"time"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// Infra is the server-selection table (Unbound's dump_infra): what the
// resolver knows of each server's round-trip time and health, per zone.
type Infra struct {
	Servers []InfraEntry `json:"servers"`
}

// InfraEntry is one server address, for one zone.
type InfraEntry struct {
	Addr string `json:"addr"`
	// Zone is absent on a server's address-wide record: its RTT and
	// timeouts across every zone, which selection uses for a zone the
	// server has not answered for yet.
	Zone string `json:"zone,omitempty"`
	// SRTTMS, RTTVarMS and RTOMS are the smoothed RTT, its variation and
	// the retransmission timeout (RFC 6298).
	SRTTMS   float64 `json:"srtt_ms"`
	RTTVarMS float64 `json:"rttvar_ms"`
	RTOMS    float64 `json:"rto_ms"`
	Timeouts int     `json:"timeouts"`
	// LameUntil is set while the server is lame for the zone.
	LameUntil string `json:"lame_until,omitempty"`
	// ProbeAfter is set while the server is skipped after repeated
	// timeouts: it is probed again after that time.
	ProbeAfter string `json:"probe_after,omitempty"`
	Updated    string `json:"updated,omitempty"`
}

// FromInfra converts the infrastructure cache's snapshot.
func FromInfra(entries []cache.InfraEntry) *Infra {
	return &Infra{Servers: InfraEntries(entries)}
}

// InfraEntries converts each entry; an empty table is an empty list.
func InfraEntries(entries []cache.InfraEntry) []InfraEntry {
	out := make([]InfraEntry, 0, len(entries))
	for _, e := range entries {
		ie := InfraEntry{
			Addr: e.Addr.String(), Zone: e.Zone,
			SRTTMS: Millis(e.SRTT), RTTVarMS: Millis(e.RTTVar), RTOMS: Millis(e.RTO), Timeouts: e.Timeouts,
			ProbeAfter: timeString(e.ProbeAfter), Updated: timeString(e.Updated),
		}
		if e.Lame {
			ie.LameUntil = timeString(e.LameUntil)
		}
		out = append(out, ie)
	}
	return out
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
