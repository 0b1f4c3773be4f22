// Package packaging holds no code: its tests check what ships beside the
// binary, from the top of the repository.
//
//   - dockerfile_test.go: the Dockerfile's key properties (hadolint is
//     not packaged for Debian nor reachable here): a multi-stage build of a
//     static binary with the flags it uses, a distroless runtime, a
//     non-root user with CAP_NET_BIND_SERVICE, a HEALTHCHECK that runs
//     addrwalk itself, a configuration that passes --check-config, and a
//     few of hadolint's rules (pinned images and packages, exec form).
//   - install_test.go: `make install` into a temporary DESTDIR, with
//     PREFIX honoured, and the tree it leaves.
package packaging
