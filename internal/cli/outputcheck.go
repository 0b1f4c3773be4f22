package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// checkOutput checks, before a command does its work, that the file
// the flag what names can be written when the work is done: it is not a
// directory, and its directory exists and takes a new file. A typo in an
// output path must not cost a whole walk, scan or watch. An empty path
// (the flag not given) passes.
func checkOutput(what, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return withExit(ExitUsage, fileerr.Write(what, path, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}))
	}
	if err := writableDir(filepath.Dir(path)); err != nil {
		return withExit(ExitUsage, fileerr.Write(what, path, err))
	}
	return nil
}

// writableDir reports whether dir exists and a file can be created in it.
func writableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".addrwalk-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// check is checkOutput for --svg and --html.
func (f PictureFlags) check() error {
	if err := checkOutput("--svg", f.SVG); err != nil {
		return err
	}
	return checkOutput("--html", f.HTML)
}

// checkOutputDir is checkOutput for a flag naming a directory a command
// writes its files into: it is made if missing (as the command would make
// it) and must take a new file. A failure is a usage error, as for an
// output file; a write that fails later (a full disk) is the command's
// failure (3).
func checkOutputDir(what, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return withExit(ExitUsage, fileerr.Write(what, dir, err))
	}
	if err := writableDir(dir); err != nil {
		return withExit(ExitUsage, fileerr.Write(what, dir, err))
	}
	return nil
}
