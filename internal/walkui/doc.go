// Package walkui is the debug listener's page of recent resolutions
// (`addrwalk serve --metrics 127.0.0.1:PORT`, then /ui/): a ring of the
// last resolutions the server ran, with their traces; a list searchable
// by name, type, client, rcode and DNSSEC status; a click draws one with
// internal/walkview; a live mode follows new resolutions through
// server-sent events (the HTML5 EventSource protocol). Everything the page
// needs is embedded (go:embed), so it works with no internet.
//
// Files:
//   - ring.go: the ring of recent resolutions (a server.TraceSink) and its live subscribers
//   - handler.go: the HTTP routes, the event stream and the loopback guard
//   - assets/: the page, its script and style
package walkui
