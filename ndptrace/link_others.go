//go:build !linux

package ndptrace

import (
	"context"

	"github.com/addrwalk/addrwalk/arptrace"
)

func openLink(context.Context, arptrace.Interface, uint32) (link, error) {
	return nil, arptrace.ErrNotSupported
}
