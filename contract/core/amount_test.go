package core_test

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
)

func TestParseAmount(t *testing.T) {
	accept := map[string]core.Amount{
		"0":                    0,
		"1":                    1,
		"10":                   10,
		"1000000":              1000000,
		"18446744073709551615": core.MaxAmount,
		"18446744073709551614": core.MaxAmount - 1,
	}
	for s, want := range accept {
		got, err := core.ParseAmount(s)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("Amount(%d).String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{
		"", "00", "01", "007", "-0", "-1", "+1", " 1", "1 ", "1\n", "1.0", "1e3", "0x10",
		"1_000", "1,000", "abc", "１", // full-width digit
		"18446744073709551616",  // 2^64
		"18446744073709551617",  // 2^64+1
		"99999999999999999999",  // 20 digits, over
		"184467440737095516150", // 21 digits
		"1uflash",
	} {
		if v, err := core.ParseAmount(s); err == nil {
			t.Errorf("ParseAmount(%q) = %d, want error", s, v)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	for _, a := range []core.Amount{0, 1, 1000, core.MaxAmount} {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + a.String() + `"`; string(b) != want {
			t.Fatalf("Marshal(%d) = %s, want %s", a, b, want)
		}
		var back core.Amount
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Fatalf("round trip %d -> %s -> %d, %v", a, b, back, err)
		}
	}
	// Inside a struct, as messages use it.
	type wrap struct {
		A core.Amount `json:"a"`
	}
	b, _ := json.Marshal(wrap{A: 12345})
	if string(b) != `{"a":"12345"}` {
		t.Fatalf("struct encoding %s", b)
	}
	for _, in := range []string{
		`{"a":12345}`, // bare number refused
		`{"a":1.5}`,
		`{"a":null}`,
		`{"a":""}`,
		`{"a":"01"}`,
		`{"a":"-5"}`,
		`{"a":" 5"}`,
		`{"a":"18446744073709551616"}`,
		`{"a":"\u0031"}`, // escaped digit: not a plain decimal string
		`{"a":true}`,
		`{"a":["1"]}`,
	} {
		var w wrap
		if err := json.Unmarshal([]byte(in), &w); err == nil {
			t.Errorf("Unmarshal(%s) accepted as %d", in, w.A)
		}
	}
	var w wrap
	if err := json.Unmarshal([]byte(`{"a":"18446744073709551615"}`), &w); err != nil || w.A != core.MaxAmount {
		t.Fatalf("max amount: %d, %v", w.A, err)
	}
}

func TestAdd(t *testing.T) {
	cases := []struct {
		a, b, want core.Amount
	}{
		{0, 0, 0},
		{1, 2, 3},
		{core.MaxAmount, 0, core.MaxAmount},
		{0, core.MaxAmount, core.MaxAmount},
		{core.MaxAmount - 5, 5, core.MaxAmount},
	}
	for _, c := range cases {
		got, err := core.Add(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Add(%d, %d) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	for _, c := range [][2]core.Amount{
		{core.MaxAmount, 1},
		{1, core.MaxAmount},
		{core.MaxAmount, core.MaxAmount},
		{core.MaxAmount/2 + 1, core.MaxAmount/2 + 1},
	} {
		got, err := core.Add(c[0], c[1])
		if core.CodeOf(err) != core.CodeOverflow {
			t.Errorf("Add(%d, %d) = %d, %v; want CodeOverflow", c[0], c[1], got, err)
		}
		if got != 0 {
			t.Errorf("Add overflow returned %d alongside the error", got)
		}
	}
}

func TestSub(t *testing.T) {
	for _, c := range [][3]core.Amount{
		{5, 3, 2}, {5, 5, 0}, {0, 0, 0}, {core.MaxAmount, core.MaxAmount, 0}, {core.MaxAmount, 1, core.MaxAmount - 1},
	} {
		got, err := core.Sub(c[0], c[1])
		if err != nil || got != c[2] {
			t.Errorf("Sub(%d, %d) = %d, %v; want %d", c[0], c[1], got, err, c[2])
		}
	}
	for _, c := range [][2]core.Amount{{0, 1}, {5, 6}, {0, core.MaxAmount}, {core.MaxAmount - 1, core.MaxAmount}} {
		got, err := core.Sub(c[0], c[1])
		if core.CodeOf(err) != core.CodeInsufficientFunds {
			t.Errorf("Sub(%d, %d) = %d, %v; want CodeInsufficientFunds", c[0], c[1], got, err)
		}
	}
}

func TestMulDiv(t *testing.T) {
	const max = math.MaxUint64
	cases := []struct {
		a, b, c, want uint64
	}{
		{0, 5, 7, 0},
		{6, 7, 3, 14},
		{10, 10, 3, 33}, // rounds down
		{1, 1, max, 0},
		{max, max, max, max}, // product needs 128 bits
		{max, 2, 4, max / 2}, // 2^65-2 / 4
		{max, 1000, 1001, 18428315757951600014},
		{1 << 40, 1 << 40, 1 << 20, 1 << 60},
		{max, max - 1, max, max - 1},
	}
	for _, c := range cases {
		got, err := core.MulDiv(c.a, c.b, c.c)
		if err != nil || got != c.want {
			t.Errorf("MulDiv(%d, %d, %d) = %d, %v; want %d", c.a, c.b, c.c, got, err, c.want)
		}
	}
	for _, c := range [][3]uint64{
		{max, 2, 1},
		{max, max, max - 1},
		{1 << 32, 1 << 32, 1},
		{max, max, 1},
	} {
		if got, err := core.MulDiv(c[0], c[1], c[2]); core.CodeOf(err) != core.CodeOverflow {
			t.Errorf("MulDiv(%d, %d, %d) = %d, %v; want CodeOverflow", c[0], c[1], c[2], got, err)
		}
	}
	if _, err := core.MulDiv(1, 1, 0); err == nil || core.CodeOf(err) == core.CodeOK {
		t.Error("MulDiv by zero did not fail")
	}

	// Cross-check against math/big on random inputs, including results that
	// only just fit or just overflow.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		a, b, c := r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(64)
		if c == 0 {
			c = 1
		}
		want := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
		want.Quo(want, new(big.Int).SetUint64(c))
		got, err := core.MulDiv(a, b, c)
		if want.IsUint64() {
			if err != nil || got != want.Uint64() {
				t.Fatalf("MulDiv(%d, %d, %d) = %d, %v; want %s", a, b, c, got, err, want)
			}
		} else if core.CodeOf(err) != core.CodeOverflow {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, %v; want overflow (%s)", a, b, c, got, err, want)
		}
	}
}

func TestCodes(t *testing.T) {
	// Codes are part of the wire contract: numbers and names never change.
	want := map[core.Code]string{
		0: "ok", 1: "internal", 2: "tx_decode", 3: "tx_too_large", 4: "wrong_chain_id",
		5: "bad_sequence", 6: "bad_signature", 7: "unknown_message", 8: "invalid_message",
		9: "insufficient_funds", 10: "insufficient_fee", 11: "invalid_address", 12: "unauthorized",
		13: "not_found", 14: "overflow", 15: "wrong_state", 16: "no_capacity", 17: "price_too_high",
		18: "already_exists", 19: "invalid_amount", 20: "invalid_query",
	}
	for c, n := range want {
		if c.Name() != n {
			t.Errorf("Code(%d).Name() = %q, want %q", c, c.Name(), n)
		}
		if back, ok := core.CodeByName(n); !ok || back != c {
			t.Errorf("CodeByName(%q) = %d, %v", n, back, ok)
		}
	}
	if got := core.Code(999).Name(); got != "code_999" {
		t.Errorf("unknown code name %q", got)
	}
	if _, ok := core.CodeByName("nope"); ok {
		t.Error("CodeByName accepted an unknown name")
	}
	if core.CodeOf(nil) != core.CodeOK {
		t.Error("CodeOf(nil) != CodeOK")
	}
	if core.CodeOf(json.Unmarshal([]byte("x"), new(int))) != core.CodeInternal {
		t.Error("foreign error is not CodeInternal")
	}
	err := core.Errf(core.CodeNotFound, "thing %d", 7)
	if core.CodeOf(err) != core.CodeNotFound || err.Error() != "not_found: thing 7" {
		t.Errorf("Errf: %v", err)
	}
}
