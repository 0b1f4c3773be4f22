// Package fileerr words a file that could not be read or written for the
// person who named it: "cannot read --trust-anchor /x: no such file", not
// Go's "open /x: no such file or directory". What names the flag or
// configuration key the path came from. The wrapped error stays reachable
// with errors.Is and errors.As (fs.ErrNotExist, fs.ErrPermission,
// *fs.PathError, syscall.Errno).
//
// Every file a user names is read through ReadFile or Open, which also
// bound its size (a configuration, a key or a trust anchor file is small;
// /dev/zero or a log named by mistake must not fill the memory), and
// certificates through LoadKeyPair and LoadCertPool.
//
// Files:
//   - fileerr.go: Error, Read, Write (the errno → words table), ReadFile, Open;
//   - tls.go: LoadKeyPair, LoadCertPool (PEM files, with crypto/tls's
//     "failed to find any PEM data" said in the same words).
package fileerr
