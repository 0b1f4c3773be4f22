// Package replay is a Go-native runner for Deckard resolver conformance
// scenarios (.rpl files), minus the resolver itself.
//
// It provides:
//   - a parser for the RPL format (Parse, ParseFile) producing a Scenario;
//   - a scripted mock network (Network) that answers the resolver's upstream
//     queries exactly as Deckard's pydnstest does (ranges, MATCH, ADJUST,
//     one-shot REPLY steps, undefined answers, MANDATORY entries), usable as
//     an injectable upstream transport through Network.Exchange;
//   - the CHECK_ANSWER comparison (Check);
//   - a scenario driver (Run) that plays the steps against a Target, the
//     resolver under test, and reports the outcome.
//
// Scenarios are data read at run time (see Dir); they are never copied into
// the repository. The format and semantics are those described in the shared
// FORMAT.md; DNS wire and presentation formats follow RFC 1035, RFC 3597
// (unknown RR types), RFC 6891 (EDNS) and RFC 4034 (DNSSEC records).
package replay
