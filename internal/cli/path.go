package cli

import "errors"

// PathCmd is a placeholder until the subcommand lands.
type PathCmd struct{}

// Run reports that the subcommand is not built yet.
func (c *PathCmd) Run(g *Globals) error {
	return withExit(ExitFailure, errors.New("path: not implemented yet"))
}
