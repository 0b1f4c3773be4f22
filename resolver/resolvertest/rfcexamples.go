package resolvertest

import "fmt"

// This file rebuilds the example zones of RFC 4035 Appendix A and RFC 5155
// Appendix A, whose example responses (Appendix B of each) are the
// specifications' own test vectors for a validator. The zone "example." is
// served below a signed root, with the same owner names, records, TTLs,
// NSEC3 parameters (SHA-1, 12 iterations, salt aabbccdd) and opt-out flag
// as the RFCs; it is re-signed when the lab starts, with fresh ECDSA P-256
// keys instead of the RFCs' RSA/SHA-1 ones (their signatures expired in
// 2004 and 2005). Two things differ, both needed to serve the zones on
// loopback: the name servers' addresses are 127.x.y.z instead of
// 192.0.2.x (a lab refuses glue off loopback), and the children the RFCs
// only refer to (a.example, b.example or c.example) exist as small zones,
// so a resolver can follow the referrals of B.4 and B.5 (RFC 4035) and
// B.3 (RFC 5155) to an answer. NSEC3 owner names therefore hash exactly
// as in RFC 5155 Appendix B.

// exampleRoot is the signed root above "example.": one server, and the
// delegation to the RFCs' ns1.example and ns2.example.
func exampleRoot(net byte) string {
	return fmt.Sprintf(`
$TTL 86400
@               SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@               NS  a.root.lab.
a.root.lab.     A   127.%[1]d.0.1
example.        NS  ns1.example.
example.        NS  ns2.example.
ns1.example.    A   127.%[1]d.1.1
ns2.example.    A   127.%[1]d.1.2
`, net)
}

// exampleChild is a small zone below "example." (the RFCs show only its
// delegation): its two servers and an MX for the examples' "mc" name.
func exampleChild(origin string, net, host byte) string {
	return fmt.Sprintf(`
$ORIGIN %[1]s
$TTL 3600
@    SOA ns1 bugs.x.w.example. 1 3600 300 3600000 3600
@    NS  ns1
@    NS  ns2
ns1  A   127.%[2]d.2.%[3]d
ns2  A   127.%[2]d.2.%[4]d
mc   MX  1 xx.example.
`, origin, net, host, host+1)
}

// exampleServers lists the root's, example.'s and the children's servers.
func exampleServers(net byte, children map[string]byte) []Host {
	a := func(x, y byte) string { return fmt.Sprintf("127.%d.%d.%d", net, x, y) }
	out := []Host{
		{"a.root.lab.", a(0, 1), []string{"."}},
		{"ns1.example.", a(1, 1), []string{"example."}},
		{"ns2.example.", a(1, 2), []string{"example."}},
	}
	for child, host := range children {
		out = append(out,
			Host{"ns1." + child, a(2, host), []string{child}},
			Host{"ns2." + child, a(2, host+1), []string{child}})
	}
	return out
}

// RFC4035Example is the signed zone of RFC 4035 Appendix A (NSEC), with a
// signed child a.example and an unsigned child b.example, served on
// 127.<net>.0.0/16.
func RFC4035Example(net byte) Hierarchy {
	example := fmt.Sprintf(`
$ORIGIN example.
$TTL 3600
@              SOA   ns1.example. bugs.x.w.example. 1081539377 3600 300 3600000 3600
@              NS    ns1.example.
@              NS    ns2.example.
@              MX    1 xx.example.
a              NS    ns1.a.example.
a              NS    ns2.a.example.
ns1.a          A     127.%[1]d.2.5
ns2.a          A     127.%[1]d.2.6
ai             A     192.0.2.9
ai             HINFO "KLH-10" "ITS"
ai             AAAA  2001:db8::f00:baa9
b              NS    ns1.b.example.
b              NS    ns2.b.example.
ns1.b          A     127.%[1]d.2.7
ns2.b          A     127.%[1]d.2.8
ns1            A     127.%[1]d.1.1
ns2            A     127.%[1]d.1.2
*.w            MX    1 ai.example.
x.w            MX    1 xx.example.
x.y.w          MX    1 xx.example.
xx             A     192.0.2.10
xx             HINFO "KLH-10" "TOPS-20"
xx             AAAA  2001:db8::f00:baaa
`, net)
	return exampleHierarchy(net, example, "b.example.", SignOptions{})
}

// RFC5155Example is the signed zone of RFC 5155 Appendix A (NSEC3, SHA-1,
// 12 iterations, salt aabbccdd, opt-out), with a signed child a.example
// and an unsigned child c.example left out of the NSEC3 chain by opt-out,
// served on 127.<net>.0.0/16.
func RFC5155Example(net byte) Hierarchy {
	example := fmt.Sprintf(`
$ORIGIN example.
$TTL 3600
@              SOA   ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600
@              NS    ns1.example.
@              NS    ns2.example.
@              MX    1 xx.example.
2t7b4g4vsa5smi47k61mv5bv1a22bojr A 192.0.2.127
a              NS    ns1.a.example.
a              NS    ns2.a.example.
ai             A     192.0.2.9
ai             HINFO "KLH-10" "ITS"
ai             AAAA  2001:db8::f00:baa9
c              NS    ns1.c.example.
c              NS    ns2.c.example.
ns1.a          A     127.%[1]d.2.5
ns2.a          A     127.%[1]d.2.6
ns1.c          A     127.%[1]d.2.7
ns2.c          A     127.%[1]d.2.8
ns1            A     127.%[1]d.1.1
ns2            A     127.%[1]d.1.2
*.w            MX    1 ai.example.
x.w            MX    1 xx.example.
x.y.w          MX    1 xx.example.
xx             A     192.0.2.10
xx             HINFO "KLH-10" "TOPS-20"
xx             AAAA  2001:db8::f00:baaa
`, net)
	return exampleHierarchy(net, example, "c.example.",
		SignOptions{NSEC3: true, OptOut: true, NSEC3Iterations: 12, NSEC3Salt: "aabbccdd"})
}

// exampleHierarchy puts an RFC's zone "example." (signed with opts) below
// a signed root, with its signed child a.example and the unsigned child
// named unsigned, each with two servers on 127.<net>.2.x.
func exampleHierarchy(net byte, example, unsigned string, opts SignOptions) Hierarchy {
	children := map[string]byte{"a.example.": 5, unsigned: 7}
	zones := map[string]string{".": exampleRoot(net), "example.": example}
	for child, host := range children {
		zones[child] = exampleChild(child, net, host)
	}
	return Hierarchy{
		Zones:   zones,
		Signed:  map[string]SignOptions{".": {}, "example.": opts, "a.example.": {}},
		Servers: exampleServers(net, children),
	}
}
