//go:build unix

package sdnotify

import "syscall"

// closeOnExec marks fd close-on-exec.
func closeOnExec(fd int) { syscall.CloseOnExec(fd) }
