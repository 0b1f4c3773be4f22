package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/addrwalk/addrwalk/arptrace"
)

// ArpWatchCmd is `addrwalk arp watch`.
type ArpWatchCmd struct {
	Interface string       `short:"i" placeholder:"DEV" help:"Interface (default: the first Ethernet interface that is up)."`
	Duration  durationFlag `short:"d" placeholder:"SECONDS" help:"Stop after this long (seconds or 1m30s); default: until interrupted."`
	Count     int          `short:"c" placeholder:"COUNT" help:"Stop after this many ARP packets."`
	JSON      bool         `name:"json" help:"Print events as JSON lines."`
	Events    bool         `name:"events-only" help:"Print only events, not every packet."`
	State     string       `name:"state" placeholder:"FILE" help:"File remembering known stations across runs (JSON)."`
	NoPromisc bool         `name:"no-promisc" help:"Do not put the interface in promiscuous mode."`
}

// arpDefaultInterface picks the first up, non-loopback Ethernet interface.
func arpDefaultInterface() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("arp: list interfaces: %w", err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && len(ifi.HardwareAddr) == 6 {
			return ifi.Name, nil
		}
	}
	return "", errors.New("arp: no Ethernet interface is up; name one with -i")
}

// Run watches until the duration, count or an interrupt.
func (c *ArpWatchCmd) Run(g *Globals) error {
	if c.Count < 0 {
		return usageErr("arp watch: --count must not be negative")
	}
	name := c.Interface
	if name == "" {
		n, err := arpDefaultInterface()
		if err != nil {
			return withExit(ExitUsage, err)
		}
		name = n
	}
	var known []arptrace.Station
	if c.State != "" {
		var err error
		if known, err = arptrace.LoadStations("--state", c.State); err != nil {
			return withExit(ExitUsage, err)
		}
		// The table is saved when the watch ends: a directory that
		// cannot take it must not cost the whole watch.
		if err := checkOutput("--state", c.State); err != nil {
			return err
		}
	}
	mon := arptrace.NewMonitor(known)
	enc := json.NewEncoder(g.Stdout)
	var ready func()
	if !c.JSON {
		// Announced once the interface is checked and the socket open,
		// so a bad interface or a missing privilege is the only line.
		ready = func() { fmt.Fprintf(g.Stderr, "watching ARP on %s (%d known stations)\n", name, len(known)) }
	}
	emit := func(ev arptrace.Event) {
		if c.Events && ev.Kind == arptrace.EventPacket {
			return
		}
		if c.JSON {
			_ = enc.Encode(ev)
			return
		}
		fmt.Fprintln(g.Stdout, arpEventLine(ev))
	}
	ctx := g.Ctx
	stats, err := arptrace.NewTracer(arptrace.Config{Interface: name}).Watch(ctx,
		arptrace.WatchOptions{Duration: c.Duration.d(), Count: c.Count, Promiscuous: !c.NoPromisc, Monitor: mon, Ready: ready}, emit)
	if err != nil {
		return arpErr(err)
	}
	if c.State != "" {
		if err := arptrace.SaveStations("--state", c.State, mon.Stations()); err != nil {
			return withExit(ExitUsage, err)
		}
	}
	if !c.JSON {
		fmt.Fprintf(g.Stderr, "%d ARP packets, %d events in %.1f s\n", stats.Packets, stats.Events, stats.Elapsed.Seconds())
	}
	return nil
}

func arpEventLine(ev arptrace.Event) string {
	ts := ev.Time.Format("15:04:05.000000")
	if ev.Kind != arptrace.EventPacket {
		line := fmt.Sprintf("%s EVENT %-17s %v %v", ts, ev.Kind, ev.IP, ev.MAC)
		if !ev.OldMAC.IsZero() {
			line += fmt.Sprintf(" (was %v)", ev.OldMAC)
		}
		if ev.Note != "" {
			line += " (" + ev.Note + ")"
		}
		if ev.FromSelf {
			line += " (sent by this host)"
		}
		return line
	}
	f := ev.Frame
	switch f.Kind {
	case arptrace.KindRequest:
		return fmt.Sprintf("%s who-has %v tell %v (%v)  [eth %v > %v]", ts, f.TargetIP, f.SenderIP, f.SenderMAC, f.EthSrc, f.EthDst)
	case arptrace.KindProbe:
		return fmt.Sprintf("%s probe who-has %v from 0.0.0.0 (%v)  [eth %v > %v]", ts, f.TargetIP, f.SenderMAC, f.EthSrc, f.EthDst)
	case arptrace.KindGratuitous:
		op := "request"
		if f.Op == 2 {
			op = "reply"
		}
		return fmt.Sprintf("%s gratuitous %s %v is-at %v  [eth %v > %v]", ts, op, f.SenderIP, f.SenderMAC, f.EthSrc, f.EthDst)
	default:
		return fmt.Sprintf("%s is-at %v is %v (to %v %v)  [eth %v > %v]", ts, f.SenderIP, f.SenderMAC, f.TargetIP, f.TargetMAC, f.EthSrc, f.EthDst)
	}
}
