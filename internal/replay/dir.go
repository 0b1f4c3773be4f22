package replay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// DirEnv names the environment variable that overrides the scenario folder.
const DirEnv = "ADDRWALK_RPL_DIR"

// Dir returns the folder holding the .rpl scenarios: $ADDRWALK_RPL_DIR if
// set, otherwise ../shared/deckard relative to the module root (the nearest
// folder at or above the working directory holding go.mod). It does not
// check that the folder exists.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "deckard"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("replay: no go.mod at or above " + wd)
		}
	}
}

// Files returns the sorted paths of the .rpl files in dir.
func Files(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.rpl"))
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	sort.Strings(paths)
	return paths, nil
}
