package fileerr

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MaxSmall bounds the files read whole into memory: a configuration, a
// trust anchor or root hints file, a certificate, a key, a state file.
// The largest real one, the root zone's hints or a CA bundle, is a few
// hundred KiB; 16 MiB leaves room for a generated file and still stops a
// log or /dev/zero named by mistake.
const MaxSmall = 16 << 20

// Error is a file that could not be read or written.
type Error struct {
	Op   string // "read", "write", or "use" (Content)
	What string // the flag or key that named the file ("" if none)
	Path string // the path as the user gave it
	Why  string // what was wrong, when not the file system's error
	Err  error  // what the file system call (or the parser) returned
}

func (e *Error) Error() string {
	what := e.Path
	if e.What != "" {
		what = e.What + " " + e.Path
	}
	why := e.Why
	if why == "" {
		why = e.why()
	}
	return fmt.Sprintf("cannot %s %s: %s", e.Op, what, why)
}

// Unwrap returns the file system's own error.
func (e *Error) Unwrap() error { return e.Err }

// Read returns err, from reading the file at path named by what, as an
// *Error; nil stays nil, and an error that is not the file system's (a
// parse error) is returned as it is.
func Read(what, path string, err error) error { return wrap("read", what, path, err) }

// Content is a file that was read but holds something else than its
// reader wants: why says what, in words; err (the parser's) stays
// reachable with errors.Is and errors.As.
func Content(what, path, why string, err error) error {
	return &Error{Op: "use", What: what, Path: path, Why: why, Err: err}
}

// Reading is an error met while reading the file at path, named by what:
// the file system's (Read), or else its content's, in err's own words
// (Content).
func Reading(what, path string, err error) error {
	if err == nil {
		return nil
	}
	if r := Read(what, path, err); r != err {
		return r
	}
	return Content(what, path, err.Error(), err)
}

// Write is Read for creating or writing the file at path.
func Write(what, path string, err error) error { return wrap("write", what, path, err) }

func wrap(op, what, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	var le *os.LinkError
	var errno syscall.Errno
	var tooBig *tooLargeError
	if !errors.As(err, &pe) && !errors.As(err, &le) && !errors.As(err, &errno) && !errors.As(err, &tooBig) {
		return err
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err // already said
	}
	return &Error{Op: op, What: what, Path: path, Err: err}
}

// why says what went wrong in the words of the person who named the file;
// an errno not in the table keeps the kernel's own short text.
func (e *Error) why() string {
	var errno syscall.Errno
	var tooBig *tooLargeError
	switch {
	case errors.As(e.Err, &tooBig):
		return tooBig.Error()
	case errors.Is(e.Err, syscall.ENOENT) && e.Op == "write":
		return fmt.Sprintf("no directory %s", filepath.Dir(e.Path))
	case errors.Is(e.Err, syscall.ENOENT):
		return "no such file"
	case errors.Is(e.Err, syscall.EACCES), errors.Is(e.Err, syscall.EPERM):
		return fmt.Sprintf("permission denied (addrwalk runs as uid %d)", os.Geteuid())
	case errors.Is(e.Err, syscall.EISDIR):
		return "it is a directory, not a file"
	case errors.Is(e.Err, syscall.ENOTDIR):
		return "a part of the path is a file, not a directory"
	case errors.Is(e.Err, syscall.ENAMETOOLONG):
		return "the name is too long"
	case errors.Is(e.Err, syscall.ELOOP):
		return "too many symbolic links"
	case errors.Is(e.Err, syscall.EROFS):
		return "the file system is read-only"
	case errors.Is(e.Err, syscall.ENOSPC):
		return "no space left on the device"
	case errors.As(e.Err, &errno):
		return errno.Error()
	}
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Err != nil {
		return pe.Err.Error()
	}
	return e.Err.Error()
}

// tooLargeError is a file beyond the size its reader accepts.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("it is larger than %d MiB, more than such a file ever holds", e.max>>20)
}

// ReadFile reads the file at path, named by what, whole, as os.ReadFile
// does, refusing one larger than max bytes. Errors are *Error.
func ReadFile(what, path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Read(what, path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, Read(what, path, err)
	}
	if int64(len(b)) > max {
		return nil, Read(what, path, &tooLargeError{max: max})
	}
	return b, nil
}

// Open opens the file at path, named by what, for reading, and checks it
// can be read (a directory opens, but reading it fails). Errors are
// *Error.
func Open(what, path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Read(what, path, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, Read(what, path, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR})
	}
	return f, nil
}
