// Package config reads the configuration file of `addrwalk serve`: TOML
// (https://toml.io/en/v1.0.0), decoded with github.com/pelletier/go-toml/v2
// in strict mode so that an unknown or misspelt key is an error naming its
// line and column, not a setting silently ignored.
//
// go-toml/v2 was chosen over github.com/BurntSushi/toml because its strict
// decoder reports the position of every unknown key and of every value
// that fails to decode (including values decoded by encoding.TextUnmarshaler
// such as addresses, prefixes and durations), is actively maintained, and
// has no dependencies.
//
// The built-in defaults, written out, are examples/serve/addrwalk.toml; an
// annotated example is examples/serve/addrwalk.example.toml.
package config
