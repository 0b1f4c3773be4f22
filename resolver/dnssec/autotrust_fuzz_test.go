package dnssec

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseTrustPoints: the RFC 5011 state file loads or fails, never
// panics; what loads writes back to text that loads to the same points.
func FuzzParseTrustPoints(f *testing.F) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	f.Add(". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU= ;{id = 20326 (ksk), size = 2048b} ;;state=2 [  VALID  ] ;;count=0 ;;lastchange=1700000000 ;;Tue Nov 14 22:13:20 2023\n")
	f.Add("")
	f.Add("; garbage\n. DS 1 2 3\n")
	f.Fuzz(func(t *testing.T, text string) {
		tps, err := ParseTrustPoints(text, now)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteTrustPoints(&out, tps); err != nil {
			t.Fatalf("write: %v", err)
		}
		again, err := ParseTrustPoints(out.String(), now)
		if err != nil {
			t.Fatalf("written state does not load: %v\n%s", err, out.String())
		}
		if len(again) != len(tps) {
			t.Fatalf("%d trust points written, %d read back", len(tps), len(again))
		}
	})
}
