package dnsname

// IsSubDomain reports whether child is parent or a name below it, as
// dns.IsSubDomain(dns.Fqdn(parent), dns.Fqdn(child)) does: labels compare
// without regard to ASCII case, in their presentation form (an escaped
// dot, `\.`, is part of a label; `\065` and `A` are different labels),
// and a name without its final dot is taken as fully qualified (the
// empty name is the root). It allocates nothing.
func IsSubDomain(parent, child string) bool {
	parent, child = trimDot(parent), trimDot(child)
	if parent == "" {
		return true // the root is everyone's ancestor
	}
	if len(child) < len(parent) {
		return false
	}
	cut := len(child) - len(parent)
	if !equalFold(child[cut:], parent) {
		return false
	}
	// The suffix must start a label: child is parent itself, or the byte
	// before it is a dot that is not escaped.
	return cut == 0 || child[cut-1] == '.' && !escaped(child, cut-1)
}

// LastLabels returns the last n labels of name (the whole name when it
// has n or fewer), as name[dns.Split(name)[len-n]:] does.
func LastLabels(name string, n int) string {
	if n <= 0 {
		return ""
	}
	end := len(trimDot(name))
	// Walk back over dots that end labels: each step moves left, so the
	// loop runs at most len(name) times.
	for i := end - 1; i > 0; i-- {
		if name[i-1] != '.' || escaped(name, i-1) {
			continue
		}
		if n--; n == 0 {
			return name[i:]
		}
	}
	return name
}

// trimDot drops the final dot of a name unless it is escaped; the root,
// ".", becomes "".
func trimDot(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' && !escaped(s, n-1) {
		return s[:n-1]
	}
	return s
}

// escaped reports whether the byte at i is escaped: preceded by an odd
// number of backslashes.
func escaped(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// equalFold compares a and b, of equal length, ignoring ASCII case only
// (strings.EqualFold folds Unicode, under which two different invalid
// bytes compare equal).
func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
