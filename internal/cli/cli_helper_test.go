package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// cliArgsEnv, when set to a JSON array of arguments, makes this test
// binary act as the addrwalk command: tests start it in a namespace with
// `ip netns exec` (which also gives it the namespace's /etc/hosts) and
// compare it with another tool run the same way.
const cliArgsEnv = "ADDRWALK_CLI_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(cliArgsEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", cliArgsEnv, err)
			os.Exit(ExitFailure)
		}
		// As cmd/addrwalk's main: SIGINT and SIGTERM end the context.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
