package core

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTimeJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A Time `json:"a"`
		Z Time `json:"z"`
		O Time `json:"o,omitempty"`
	}{A: 1796161510})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":"2026-12-01T21:45:10Z","z":null}`; got != want {
		t.Fatalf("marshal: %s, want %s", got, want)
	}
	for in, want := range map[string]Time{
		`"2026-12-01T21:45:10Z"`:      1796161510,
		`"2026-12-01T22:45:10+01:00"`: 1796161510,
		`"2026-12-01T21:45:10.9Z"`:    1796161510,
		`1796161510`:                  1796161510, // legacy records
		`null`:                        0,
	} {
		var v Time = 42
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("unmarshal %s: %d, %v; want %d", in, v, err, want)
		}
	}
	for _, in := range []string{`"yesterday"`, `"2026-12-01"`, `true`, `1.5`, `{}`} {
		var v Time
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("unmarshal %s: no error", in)
		}
	}
	// A record written by an older node (numbers) decodes and re-encodes as strings.
	var r struct {
		ID        string `json:"id"`
		CreatedAt Time   `json:"created_at"`
		AcceptBy  Time   `json:"accept_by,omitempty"`
		Start     Time   `json:"start"`
		End       Time   `json:"end"`
		SettledTo Time   `json:"settled_to"`
		ClosedAt  Time   `json:"closed_at,omitempty"`
	}
	if err := json.Unmarshal([]byte(`{"id":"res-1","created_at":1796161510,"start":0,"end":1796161570,"settled_to":1796161510}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.CreatedAt != 1796161510 || r.End != 1796161570 || r.Start != 0 {
		t.Fatalf("legacy reservation: %+v", r)
	}
	out, _ := json.Marshal(r)
	for _, want := range []string{`"created_at":"2026-12-01T21:45:10Z"`, `"start":null`, `"end":"2026-12-01T21:46:10Z"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("re-encoded reservation lacks %s: %s", want, out)
		}
	}
	if strings.Contains(string(out), "closed_at") || strings.Contains(string(out), "accept_by") {
		t.Errorf("zero omitempty times are not omitted: %s", out)
	}
	if s := Time(1796161510).String(); s != "2026-12-01T21:45:10Z" {
		t.Errorf("String: %s", s)
	}
}

// FuzzTimeJSON: decoding any input either fails or gives a Time that
// encodes to a canonical form decoding back to itself (a stored record
// always reads back); a canonical form is its own encoding. The committed
// corpus holds a year-24152 time that once encoded to an undecodable string.
func FuzzTimeJSON(f *testing.F) {
	for _, s := range []string{`null`, `0`, `1700000000`, `-1`, `"2026-12-01T21:45:10Z"`, `"2026-12-01T22:45:10+01:00"`,
		`"2026-12-01T21:45:10.999Z"`, `"0001-01-01T00:00:00Z"`, `"9999-12-31T23:59:59Z"`, `"x"`, `""`, `"\u0032026-12-01T21:45:10Z"`, `1e3`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Time
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s decoded to %d, which does not encode: %v", b, v, err)
		}
		var back Time
		if err := json.Unmarshal(enc, &back); err != nil || back != v {
			t.Fatalf("%s -> %d -> %s -> %d (%v)", b, v, enc, back, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(enc) {
			t.Fatalf("encoding not canonical: %s then %s", enc, again)
		}
	})
}
