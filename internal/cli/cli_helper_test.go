package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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
		os.Exit(Run(context.Background(), args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
