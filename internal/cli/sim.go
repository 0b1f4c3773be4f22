package cli

import "errors"

// SimCmd is a placeholder until the subcommand lands.
type SimCmd struct{}

// Run reports that the subcommand is not built yet.
func (c *SimCmd) Run(g *Globals) error {
	return withExit(ExitFailure, errors.New("sim: not implemented yet"))
}
