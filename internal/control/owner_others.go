//go:build !unix

package control

import "io/fs"

// fileOwner is unknown here (no Unix owner): the socket's owner is not
// checked, as when the file system does not say.
func fileOwner(fs.FileInfo) (uint32, bool) { return 0, false }
