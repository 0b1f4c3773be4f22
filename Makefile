# make install: the binary, the systemd units, the configuration, shell
# completions and the man page, under DESTDIR and PREFIX as packagers
# expect (GNU coding standards names). Checked by internal/packaging
# (TestMakeInstall), which installs into a temporary DESTDIR.
#
#   make && sudo make install
#   make install DESTDIR=/tmp/pkg PREFIX=/usr
#   sudo make uninstall

PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
DOCDIR        ?= $(DATADIR)/doc/addrwalk
SYSCONFDIR    ?= /etc
# systemd reads units from /usr/local/lib/systemd/system as well as
# /usr/lib/systemd/system (systemd.unit(5)).
UNITDIR       ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR   ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR    ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR   ?= $(DATADIR)/fish/vendor_completions.d
GO           ?= go
GOBUILDFLAGS ?= -trimpath
# 0: a static binary (the pure-Go resolver, no libc).
CGO          ?= 0
BUILDDIR     ?= build
INSTALL      ?= install

BIN   := $(BUILDDIR)/addrwalk
UNITS := examples/serve/addrwalk.service examples/serve/addrwalk.socket \
         examples/serve/addrwalk-dot.socket examples/serve/addrwalk-doh.socket

.PHONY: all build install uninstall clean

all: build

# Always rebuilt: go build decides what is stale.
build:
	mkdir -p $(BUILDDIR)
	CGO_ENABLED=$(CGO) $(GO) build $(GOBUILDFLAGS) -o $(BIN) ./cmd/addrwalk

install: build
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/addrwalk
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(BINDIR)/addrwalk
	# The units name the installed binary and configuration.
	for u in $(UNITS); do \
		sed -e "s#/usr/local/bin/addrwalk#$(BINDIR)/addrwalk#g" \
		    -e "s#/etc/addrwalk/#$(SYSCONFDIR)/addrwalk/#g" $$u >$(BUILDDIR)/$${u##*/} && \
		$(INSTALL) -m 644 $(BUILDDIR)/$${u##*/} $(DESTDIR)$(UNITDIR)/ || exit 1; \
	done
	# An existing configuration is kept; the annotated example goes to the docs.
	[ -e $(DESTDIR)$(SYSCONFDIR)/addrwalk/addrwalk.toml ] || \
		$(INSTALL) -m 644 examples/serve/addrwalk.toml $(DESTDIR)$(SYSCONFDIR)/addrwalk/addrwalk.toml
	$(INSTALL) -m 644 examples/serve/addrwalk.example.toml README.md $(DESTDIR)$(DOCDIR)/
	# Completions and the man page come from the binary (the kong model);
	# a binary without the completion and man commands installs neither.
	if $(BIN) man >$(BUILDDIR)/addrwalk.1 2>/dev/null; then \
		$(INSTALL) -m 644 $(BUILDDIR)/addrwalk.1 $(DESTDIR)$(MANDIR)/man1/addrwalk.1; \
	else echo "make install: this addrwalk has no man command; man page not installed" >&2; fi
	if $(BIN) completion bash >$(BUILDDIR)/addrwalk.bash 2>/dev/null; then \
		$(BIN) completion zsh >$(BUILDDIR)/_addrwalk && \
		$(BIN) completion fish >$(BUILDDIR)/addrwalk.fish && \
		$(INSTALL) -m 644 $(BUILDDIR)/addrwalk.bash $(DESTDIR)$(BASHCOMPDIR)/addrwalk && \
		$(INSTALL) -m 644 $(BUILDDIR)/_addrwalk $(DESTDIR)$(ZSHCOMPDIR)/_addrwalk && \
		$(INSTALL) -m 644 $(BUILDDIR)/addrwalk.fish $(DESTDIR)$(FISHCOMPDIR)/addrwalk.fish || exit 1; \
	else echo "make install: this addrwalk has no completion command; completions not installed" >&2; fi

# The configuration in SYSCONFDIR is left in place, as packages do.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/addrwalk $(DESTDIR)$(MANDIR)/man1/addrwalk.1 \
		$(DESTDIR)$(BASHCOMPDIR)/addrwalk $(DESTDIR)$(ZSHCOMPDIR)/_addrwalk \
		$(DESTDIR)$(FISHCOMPDIR)/addrwalk.fish
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf $(BUILDDIR)
