package rawlink

import (
	"context"
	"fmt"
	"time"
)

// afterReadTimeout bounds the neighbour-cache read that follows an
// interrupted probe: a netlink dump of the neighbour table answers in
// milliseconds, so a second is ample on a loaded machine and still short
// enough that Ctrl-C feels immediate.
const afterReadTimeout = time.Second

// AfterProbe runs read, the look at the neighbour cache that follows a
// probe on the wire (arptrace's and ndptrace's "cache after", ndptrace's
// scan of the cache). While ctx is live read gets ctx. Once ctx has ended
// (the user interrupted the probe), read gets a fresh context that keeps
// ctx's values and lasts at most a second, so an interrupted trace or
// scan still shows what the kernel learnt.
func AfterProbe(ctx context.Context, read func(context.Context)) {
	if ctx.Err() == nil {
		read(ctx)
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterReadTimeout)
	defer cancel()
	read(actx)
}

// CloseAfter closes a link after the probe or scan that used it and
// returns the probe's error, or, when the probe succeeded, the close's
// (wrapped, with who as its prefix): the probe's own failure says more
// than the close that follows it.
func CloseAfter(err error, close func() error, who string) error {
	if cerr := close(); err == nil && cerr != nil {
		return fmt.Errorf("%s: close: %w", who, cerr)
	}
	return err
}
