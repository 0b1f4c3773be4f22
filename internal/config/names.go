package config

// SetBy records that flag set key on the command line.
func (c *Config) SetBy(key, flag string) {
	if c.Flags == nil {
		c.Flags = map[string]string{}
	}
	c.Flags[key] = flag
}

// Name is how an error names the setting key: the flag that set it, when
// one did (SetBy), else the key.
func (c *Config) Name(key string) string {
	if f, ok := c.Flags[key]; ok {
		return f
	}
	return key
}
