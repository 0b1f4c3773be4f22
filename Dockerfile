# syntax=docker/dockerfile:1
# addrwalk serve in a container: a static binary on a distroless base,
# run as a non-root user that may bind port 53.
#
#   docker build -t addrwalk .
#   docker run -d --name addrwalk -p 127.0.0.1:53:53/udp -p 127.0.0.1:53:53/tcp addrwalk
#   dig @127.0.0.1 www.example.org
#
# Offline (no module proxy), from the module cache of this machine:
#   go mod vendor && docker build --build-arg GOFLAGS=-mod=vendor --build-arg GOPROXY=off -t addrwalk .
# The configuration is examples/docker/addrwalk.toml; mount another over
# /etc/addrwalk/addrwalk.toml to change it. Checked by
# internal/packaging's TestDockerfile (hadolint is not packaged here).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOFLAGS=
ENV GOPROXY=${GOPROXY} GOFLAGS=${GOFLAGS} CGO_ENABLED=0
WORKDIR /src
# Modules first, so that a source change reuses this layer; skipped for
# offline builds (GOPROXY=off), which use the vendor directory instead.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    if [ "$GOPROXY" != off ]; then GOFLAGS= go mod download; fi
COPY . .
# A static binary (CGO_ENABLED=0: the pure-Go resolver, no libc) without
# paths, VCS stamp (.git is not in the context) or symbols. The file
# capability lets the non-root user bind ports below 1024 and nothing
# else; BuildKit's COPY keeps it (the security.capability xattr).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/addrwalk ./cmd/addrwalk \
 && apt-get update && apt-get install -y --no-install-recommends libcap2-bin=1:2.66-4* \
 && setcap cap_net_bind_service=+ep /out/addrwalk \
 && mkdir -p /out/run/addrwalk /out/var/lib/addrwalk \
 && rm -rf /var/lib/apt/lists/*

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/addrwalk /usr/local/bin/addrwalk
COPY --from=build --chown=65532:65532 /out/run/addrwalk /run/addrwalk
COPY --from=build --chown=65532:65532 /out/var/lib/addrwalk /var/lib/addrwalk
COPY examples/docker/addrwalk.toml /etc/addrwalk/addrwalk.toml
# distroless's "nonroot" user; the binary carries CAP_NET_BIND_SERVICE.
USER 65532:65532
EXPOSE 53/udp 53/tcp
# The control socket answers only when the server is up and serving.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/addrwalk", "ctl", "-s", "/run/addrwalk/control.sock", "status"]
ENTRYPOINT ["/usr/local/bin/addrwalk"]
CMD ["serve", "--config", "/etc/addrwalk/addrwalk.toml"]
