package fileerr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestError(t *testing.T) {
	uid := fmt.Sprint(os.Geteuid())
	tests := []struct {
		name, op, want string
		err            error
		is             error
	}{
		{"missing file", "read", "cannot read --trust-anchor /x/ta: no such file", &fs.PathError{Op: "open", Path: "/x/ta", Err: syscall.ENOENT}, fs.ErrNotExist},
		{"missing directory on write", "write", "cannot write --trust-anchor /x/ta: no directory /x", &fs.PathError{Op: "open", Path: "/x/.ta.123", Err: syscall.ENOENT}, fs.ErrNotExist},
		{"permission", "read", "cannot read --trust-anchor /x/ta: permission denied (addrwalk runs as uid " + uid + ")", &fs.PathError{Op: "open", Path: "/x/ta", Err: syscall.EACCES}, fs.ErrPermission},
		{"directory", "read", "cannot read --trust-anchor /x/ta: it is a directory, not a file", &fs.PathError{Op: "read", Path: "/x/ta", Err: syscall.EISDIR}, syscall.EISDIR},
		{"file as directory", "read", "cannot read --trust-anchor /x/ta: a part of the path is a file, not a directory", &fs.PathError{Op: "open", Path: "/x/ta", Err: syscall.ENOTDIR}, syscall.ENOTDIR},
		{"read-only", "write", "cannot write --trust-anchor /x/ta: the file system is read-only", &fs.PathError{Op: "open", Path: "/x/ta", Err: syscall.EROFS}, syscall.EROFS},
		{"other errno", "read", "cannot read --trust-anchor /x/ta: input/output error", &fs.PathError{Op: "read", Path: "/x/ta", Err: syscall.EIO}, syscall.EIO},
		{"too large", "read", "cannot read --trust-anchor /x/ta: it is larger than 16 MiB, more than such a file ever holds", &tooLargeError{max: MaxSmall}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrap(tt.op, "--trust-anchor", "/x/ta", tt.err)
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
	t.Run("not a file system error", func(t *testing.T) {
		parse := errors.New("line 3: not a TTL")
		if got := Read("--trust-anchor", "/x/ta", parse); got != parse {
			t.Errorf("Read(parse error) = %v, want it unchanged", got)
		}
		if got := Read("--trust-anchor", "/x/ta", nil); got != nil {
			t.Errorf("Read(nil) = %v, want nil", got)
		}
	})
	t.Run("said once", func(t *testing.T) {
		inner := Read("--trust-anchor", "/x/ta", &fs.PathError{Op: "open", Path: "/x/ta", Err: syscall.ENOENT})
		if got := Read("--config", "/y", fmt.Errorf("wrapped: %w", inner)); got.Error() != "wrapped: "+inner.Error() {
			t.Errorf("Read of a worded error = %q, want it unchanged", got)
		}
	})
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		max        int64
		want       string // the error, "" for none
		is         error
	}{
		{"fits", small, 10, "", nil},
		{"one byte too many", small, 9, "cannot read --f " + small + ": it is larger than 0 MiB, more than such a file ever holds", nil},
		{"missing", filepath.Join(dir, "none"), 10, "cannot read --f " + filepath.Join(dir, "none") + ": no such file", fs.ErrNotExist},
		{"directory", dir, 10, "cannot read --f " + dir + ": it is a directory, not a file", syscall.EISDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadFile("--f", tt.path, tt.max)
			if tt.want == "" {
				if err != nil || string(b) != "0123456789" {
					t.Fatalf("ReadFile = %q, %v", b, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFile = %q, want an error", b)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
	t.Run("Open directory", func(t *testing.T) {
		f, err := Open("--hosts", dir)
		if err == nil {
			f.Close()
			t.Fatal("Open(directory) succeeded")
		}
		if want := "cannot read --hosts " + dir + ": it is a directory, not a file"; err.Error() != want {
			t.Errorf("Open(directory) = %q, want %q", err, want)
		}
	})
}
