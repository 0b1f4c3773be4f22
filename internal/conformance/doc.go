// Package conformance runs the Deckard resolver scenarios (CZ.NIC's
// Deckard, from NLnet Labs' testbound) against addrwalk: the resolver
// behind the very query handler `addrwalk serve` uses, with the scenario's
// scripted authoritative servers as its only network and a fake clock.
//
// The scenarios are read at test time from ../shared/deckard (or
// $ADDRWALK_RPL_DIR); they are never copied into this repository.
// testdata/deckard-expected.txt lists the scenario runs expected to pass;
// CI fails when one of them fails and reports any that newly passes.
package conformance
