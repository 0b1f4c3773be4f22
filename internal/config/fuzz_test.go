package config

import (
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	toml "github.com/pelletier/go-toml/v2"
)

// FuzzParse: any file gives a configuration or an error, never a panic;
// an error names the file; a configuration that loads prints back (TOML)
// to one that loads the same.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../examples/serve/addrwalk.toml", "../../examples/serve/addrwalk.example.toml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[cache]\nmax-ttl = 3600\n"))
	f.Add([]byte("[[forward-zone]]\nzone = \"a.\"\nservers = [\"192.0.2.1\"]\n"))
	f.Add([]byte("[server]\nlisten = [\"127.0.0.300:53\"]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "f.toml")
		if err != nil {
			if len(err.Error()) < len("config: f.toml") || err.Error()[:len("config: f.toml")] != "config: f.toml" {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := Parse(out, "again.toml")
		if err != nil {
			t.Fatalf("printed configuration does not load: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, c2, addrCmp, cmpopts.EquateComparable(netip.Prefix{}, ServerAddr{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip differs:\n%s", diff)
		}
	})
}
