// Command silent is the interop check's unresponsive name server: it takes
// DNS queries on port 53 of each address given, over UDP and TCP, and
// never answers (a server behind a firewall that drops, or one that hangs).
// Unlike an address where nothing listens, no ICMP port unreachable or TCP
// reset tells the resolver to give up early: it must time out.
//
// Usage: silent ADDR...   (runs until killed)
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

// holdTCP bounds how long a TCP connection is kept open without a reply;
// resolvers give up on a server long before.
const holdTCP = 30 * time.Second

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: silent ADDR...")
		os.Exit(2)
	}
	for _, a := range os.Args[1:] {
		hp := net.JoinHostPort(a, "53")
		pc, err := net.ListenPacket("udp", hp)
		if err != nil {
			fmt.Fprintln(os.Stderr, "silent:", err)
			os.Exit(1)
		}
		ln, err := net.Listen("tcp", hp)
		if err != nil {
			fmt.Fprintln(os.Stderr, "silent:", err)
			os.Exit(1)
		}
		go func() {
			buf := make([]byte, 65535)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					c.SetDeadline(time.Now().Add(holdTCP))
					buf := make([]byte, 4096)
					for {
						if _, err := c.Read(buf); err != nil {
							c.Close()
							return
						}
					}
				}()
			}
		}()
	}
	fmt.Println("silent: listening")
	select {}
}
