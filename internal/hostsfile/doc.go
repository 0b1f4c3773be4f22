// Package hostsfile reads hosts files (the format of /etc/hosts: an
// address, then its names, '#' to the end of a line a comment; RFC 952
// and hosts(5)). It is the one reader of that format: serve imports a
// hosts file as local data (server.Local.AddHosts, strict: a bad line is
// an error), and `addrwalk path` looks a name up in one as glibc's "files"
// source does (lenient: a bad line is passed over).
//
// Files: hostsfile.go, the scanner and its bound.
package hostsfile
