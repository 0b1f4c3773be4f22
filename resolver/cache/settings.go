package cache

// Settings returns the configuration in force, defaults filled in, so a
// caller handed a Cache can see whether serve-stale is on and how long
// failures are remembered.
func (c *Cache) Settings() Config { return c.cfg }
