package cli

import "errors"

// DemoCmd is a placeholder until the subcommand lands.
type DemoCmd struct{}

// Run reports that the subcommand is not built yet.
func (c *DemoCmd) Run(g *Globals) error {
	return withExit(ExitFailure, errors.New("demo: not implemented yet"))
}
