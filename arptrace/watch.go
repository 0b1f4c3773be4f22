package arptrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// EventKind names what Watch noticed.
type EventKind string

// Event kinds, after arpwatch's reports.
const (
	EventPacket     EventKind = "packet"      // every ARP packet, decoded
	EventNewStation EventKind = "new-station" // first time this IP is seen
	EventChangedMAC EventKind = "changed-mac" // IP moved to a new MAC
	EventFlipFlop   EventKind = "flip-flop"   // IP went back to the MAC before the last one
	EventConflict   EventKind = "ip-conflict" // two MACs claim one IP at the same time
	// EventUnsolicitedReply: an is-at with no who-has for it seen lately
	// (gratuitous replies excepted, they are announcements).
	EventUnsolicitedReply EventKind = "unsolicited-reply"
)

// Event is one observation.
type Event struct {
	Time   time.Time  `json:"time"`
	Kind   EventKind  `json:"kind"`
	IP     netip.Addr `json:"ip"`
	MAC    MAC        `json:"mac"`
	OldMAC MAC        `json:"old_mac,omitzero"`
	Frame  *Frame     `json:"frame,omitempty"`
	Note   string     `json:"note,omitempty"`
	// FromSelf: the frame was sent by this host (a packet socket sees
	// outgoing frames too), so a conflict it reports is of our making.
	FromSelf bool `json:"from_self,omitempty"`
}

// Station is what the monitor remembers of one IP.
type Station struct {
	IP        netip.Addr `json:"ip"`
	MAC       MAC        `json:"mac"`
	PrevMAC   MAC        `json:"prev_mac,omitzero"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	Changes   int        `json:"changes"`
}

// Monitor bounds and windows.
const (
	// DefaultConflictWindow: a different MAC claiming an IP within this
	// time of the last claim is a conflict (both alive), not a move. Hosts
	// re-ARP every few tens of seconds (Linux base_reachable_time 30 s).
	DefaultConflictWindow = 10 * time.Second
	// requestMemory is how long a who-has makes an is-at "solicited";
	// a reply normally follows within milliseconds, and Linux retries
	// after 1 s.
	requestMemory = 5 * time.Second
	// MaxStations bounds the table (and the state file): a /16 of hosts.
	// Beyond it, new IPs are reported but not remembered.
	MaxStations = 1 << 16
	// maxPendingRequests bounds remembered who-has targets; the oldest
	// are dropped when the map is pruned.
	maxPendingRequests = 4096
)

// Monitor turns a stream of ARP frames into events. It does no I/O; Watch
// feeds it from the wire and tests feed it directly. Not safe for
// concurrent use.
type Monitor struct {
	stations       map[netip.Addr]*Station
	requests       map[netip.Addr]time.Time // who-has target -> when
	ConflictWindow time.Duration
}

// NewMonitor returns a monitor that already knows stations (may be nil).
func NewMonitor(stations []Station) *Monitor {
	m := &Monitor{stations: make(map[netip.Addr]*Station), requests: make(map[netip.Addr]time.Time),
		ConflictWindow: DefaultConflictWindow}
	for _, s := range stations {
		if len(m.stations) >= MaxStations {
			break
		}
		m.stations[s.IP] = &s
	}
	return m
}

// Stations returns a copy of the table, sorted by IP.
func (m *Monitor) Stations() []Station {
	out := make([]Station, 0, len(m.stations))
	for _, s := range m.stations {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Station) int { return a.IP.Compare(b.IP) })
	return out
}

// Observe updates the table with f seen at at and returns the events,
// the EventPacket first.
func (m *Monitor) Observe(f Frame, at time.Time) []Event {
	fc := f
	evs := []Event{{Time: at, Kind: EventPacket, IP: f.SenderIP, MAC: f.SenderMAC, Frame: &fc}}
	if f.Kind == KindProbe {
		// RFC 5227: a probe for an address someone holds is a conflict
		// about to happen.
		if s := m.stations[f.TargetIP]; s != nil && s.MAC != f.SenderMAC {
			evs = append(evs, Event{Time: at, Kind: EventConflict, IP: f.TargetIP, MAC: f.SenderMAC, OldMAC: s.MAC,
				Note: "probe (RFC 5227) for an address in use"})
		}
		return evs
	}
	if !f.SenderIP.Is4() || f.SenderIP.IsUnspecified() {
		return evs
	}
	switch f.Kind {
	case KindRequest:
		if len(m.requests) >= maxPendingRequests {
			m.prune(at)
		}
		if len(m.requests) < maxPendingRequests {
			m.requests[f.TargetIP] = at
		}
	case KindReply:
		if asked, ok := m.requests[f.SenderIP]; !ok || at.Sub(asked) > requestMemory {
			evs = append(evs, Event{Time: at, Kind: EventUnsolicitedReply, IP: f.SenderIP, MAC: f.SenderMAC,
				Note: "no who-has seen for it in the last " + requestMemory.String()})
		}
	}
	s := m.stations[f.SenderIP]
	switch {
	case s == nil:
		evs = append(evs, Event{Time: at, Kind: EventNewStation, IP: f.SenderIP, MAC: f.SenderMAC})
		if len(m.stations) < MaxStations {
			m.stations[f.SenderIP] = &Station{IP: f.SenderIP, MAC: f.SenderMAC, FirstSeen: at, LastSeen: at}
		}
		return evs
	case s.MAC == f.SenderMAC:
		s.LastSeen = at
		return evs
	}
	ev := Event{Time: at, IP: f.SenderIP, MAC: f.SenderMAC, OldMAC: s.MAC}
	switch {
	case at.Sub(s.LastSeen) < m.ConflictWindow:
		ev.Kind = EventConflict
		ev.Note = fmt.Sprintf("%v claimed by %v %s ago", f.SenderIP, s.MAC, at.Sub(s.LastSeen).Round(time.Millisecond))
	case f.SenderMAC == s.PrevMAC:
		ev.Kind = EventFlipFlop
	default:
		ev.Kind = EventChangedMAC
	}
	s.PrevMAC, s.MAC, s.LastSeen = s.MAC, f.SenderMAC, at
	s.Changes++
	return append(evs, ev)
}

func (m *Monitor) prune(now time.Time) {
	for ip, t := range m.requests {
		if now.Sub(t) > requestMemory {
			delete(m.requests, ip)
		}
	}
}

// stateFile is the on-disk form of the station table.
type stateFile struct {
	Version  int       `json:"version"`
	Stations []Station `json:"stations"`
}

// LoadStations reads a state file written by SaveStations. A missing file
// is an empty table. name is what errors call the file: the flag or
// setting that named it ("" for none).
func LoadStations(name, path string) ([]Station, error) {
	b, err := fileerr.ReadFile(name, path, fileerr.MaxSmall)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil {
		why := "it is not a station table written by arp watch"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			why += fmt.Sprintf(" (not JSON at byte %d)", se.Offset)
		}
		return nil, fileerr.Content(name, path, why, err)
	}
	if sf.Version != 1 {
		return nil, fileerr.Content(name, path, fmt.Sprintf("it has version %d; this addrwalk reads version 1", sf.Version), nil)
	}
	return sf.Stations, nil
}

// SaveStations writes the table atomically (temp file and rename); name
// is what errors call the file, as for LoadStations.
func SaveStations(name, path string, st []Station) error {
	b, err := json.MarshalIndent(stateFile{Version: 1, Stations: st}, "", "  ")
	if err != nil {
		return fmt.Errorf("arptrace: encode state: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".arpwatch-*")
	if err != nil {
		return fileerr.Write(name, path, err)
	}
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fileerr.Write(name, path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fileerr.Write(name, path, err)
	}
	return nil
}

// WatchOptions bound and configure Watch.
type WatchOptions struct {
	Duration    time.Duration // stop after this long; 0: only ctx stops it
	Count       int           // stop after this many ARP packets; 0: no limit
	Promiscuous bool          // also see unicast ARP between other hosts
	Monitor     *Monitor      // state to start from; nil: a fresh one
	// Ready, if set, is called once the socket is listening: frames sent
	// after it returns are seen.
	Ready func()
}

// WatchStats is what a finished Watch saw.
type WatchStats struct {
	Packets int           `json:"packets"`
	Events  int           `json:"events"` // not counting packet events
	Elapsed time.Duration `json:"elapsed_ns"`
}

// watchReadSlice bounds one blocking read so Duration is honoured.
const watchReadSlice = 500 * time.Millisecond

// Watch listens for ARP on the interface (Config.Interface is required)
// and calls emit for every event, in order, from the calling goroutine.
// It returns when ctx ends, Duration passes or Count packets were seen;
// those are normal ends, not errors.
func (t *Tracer) Watch(ctx context.Context, opts WatchOptions, emit func(Event)) (WatchStats, error) {
	var stats WatchStats
	if t.iface == "" {
		return stats, fmt.Errorf("%w: watch needs an interface", ErrInterface)
	}
	ifi, err := lookupInterface(t.iface)
	if err != nil {
		return stats, err
	}
	m := opts.Monitor
	if m == nil {
		m = NewMonitor(nil)
	}
	l, err := openLink(ctx, ifi, opts.Promiscuous, true, t.now)
	if err != nil {
		return stats, err
	}
	defer l.close()
	if opts.Ready != nil {
		opts.Ready()
	}
	start := time.Now()
	var end time.Time
	if opts.Duration > 0 {
		end = start.Add(opts.Duration)
	}
	// Bounded by ctx, Duration and Count: a monitor runs as long as its
	// caller wants; each read is bounded by watchReadSlice.
	for ctx.Err() == nil && (opts.Count <= 0 || stats.Packets < opts.Count) {
		dl := time.Now().Add(watchReadSlice)
		if !end.IsZero() {
			if !time.Now().Before(end) {
				break
			}
			if end.Before(dl) {
				dl = end
			}
		}
		f, at, err := l.recv(ctx, dl)
		if err != nil {
			if isTimeout(err) || ctx.Err() != nil {
				continue
			}
			return stats, err
		}
		stats.Packets++
		for _, ev := range m.Observe(f, at) {
			ev.FromSelf = f.EthSrc == ifi.MAC
			if ev.Kind != EventPacket {
				stats.Events++
			}
			emit(ev)
		}
	}
	stats.Elapsed = time.Since(start)
	return stats, nil
}
