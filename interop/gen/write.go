package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// write puts the hierarchy's files under out (see the package comment).
func (h *hier) write(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	// Root hints.
	var hints strings.Builder
	for _, n := range h.rootNS {
		fmt.Fprintf(&hints, ".\t3600000\tNS\t%s\n%s\t3600000\tA\t%s\n", n, n, h.addr[n])
	}
	if err := os.WriteFile(filepath.Join(abs, "root.hints"), []byte(hints.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, "questions.txt"), []byte(strings.Join(h.questions, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, "silent.txt"), []byte(silentIP+"\n"), 0o644); err != nil {
		return err
	}
	// Zones by instance.
	byInst := map[string][]*zone{}
	for _, name := range h.order {
		z := h.zones[name]
		for _, in := range z.insts {
			byInst[in] = append(byInst[in], z)
		}
	}
	insts := make([]string, 0, len(h.instAddrs))
	for in := range h.instAddrs {
		insts = append(insts, in)
	}
	sort.Strings(insts)
	var list strings.Builder
	for _, in := range insts {
		dir := filepath.Join(abs, "nsd", in)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var c strings.Builder
		fmt.Fprintf(&c, "server:\n")
		for _, a := range h.instAddrs[in] {
			fmt.Fprintf(&c, "\tip-address: %s\n", a)
		}
		fmt.Fprintf(&c, "\tport: 53\n\tdo-ip6: no\n\tusername: \"\"\n\tchroot: \"\"\n")
		fmt.Fprintf(&c, "\tzonesdir: %q\n\tdatabase: \"\"\n", dir)
		for _, f := range []string{"zonelistfile: zone.list", "xfrdfile: xfrd.state", "pidfile: nsd.pid", "logfile: nsd.log"} {
			k, v, _ := strings.Cut(f, ": ")
			fmt.Fprintf(&c, "\t%s: %q\n", k, filepath.Join(dir, v))
		}
		fmt.Fprintf(&c, "\txfrdir: %q\n\tserver-count: 1\n\tverbosity: 1\n\thide-version: yes\n\tround-robin: no\n\treuseport: no\n", dir)
		fmt.Fprintf(&c, "remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: %q\n", filepath.Join(dir, "nsd.ctl"))
		for k, z := range byInst[in] {
			file := fmt.Sprintf("z%03d.zone", k)
			fmt.Fprintf(&c, "zone:\n\tname: %q\n\tzonefile: %q\n", z.name, filepath.Join(dir, file))
			body := "$TTL 3600\n" + strings.Join(dedupe(z.rrs), "\n") + "\n"
			if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
				return err
			}
		}
		conf := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(conf, []byte(c.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&list, "%s %s %s\n", in, conf, strings.Join(h.instAddrs[in], " "))
	}
	return os.WriteFile(filepath.Join(abs, "instances.txt"), []byte(list.String()), 0o644)
}

// dedupe drops repeated records (glue added by several delegations),
// keeping the first of each.
func dedupe(rrs []string) []string {
	seen := map[string]bool{}
	out := rrs[:0:0]
	for _, r := range rrs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
