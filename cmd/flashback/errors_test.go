package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestHumanize: every byte, uflash and seconds figure is rewritten; small
// byte counts and bare numbers stay.
func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"unit unit-1 has 51539607552 bytes free, 107374182400 bytes requested":     "unit unit-1 has 48 GiB free, 100 GiB requested",
		"account fb1x has 9000uflash, needs 10200000uflash":                        "account fb1x has 0.009 FLASH, needs 10.2 FLASH",
		"term_seconds is 103680000 seconds, longer than max_term 94608000 seconds": "term_seconds is 1200d, longer than max_term 1095d",
		"sealed_secret is 12 bytes: want 48-200 bytes":                             "sealed_secret is 12 bytes: want 48-200 bytes",
		"epoch 12 has not ended":                                                   "epoch 12 has not ended",
	} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteErrorOnce: text is one human line; JSON keeps raw units and the
// code, without the code repeated in the message.
func TestWriteErrorOnce(t *testing.T) {
	err := explain(&codedError{code: "no_capacity", msg: withoutCode("message 0 (market/reserve): no_capacity: 2147483648 bytes free", "no_capacity")})
	var text, js bytes.Buffer
	writeError(&text, "text", err)
	writeError(&js, "json", err)
	if got := text.String(); got != "Error: message 0 (market/reserve): 2 GiB free (no_capacity)\n" {
		t.Errorf("text: %q", got)
	}
	if got := js.String(); got != `{"error":"message 0 (market/reserve): 2147483648 bytes free","code":"no_capacity"}`+"\n" {
		t.Errorf("json: %q", got)
	}
	var plain bytes.Buffer
	writeError(&plain, "text", errors.New("open x: no such file"))
	if strings.Count(plain.String(), "Error:") != 1 {
		t.Errorf("plain: %q", plain.String())
	}
}

// TestIDArgs: bare numbers become ids; wrong shapes name the right one.
func TestIDArgs(t *testing.T) {
	args := []string{"3", "start"}
	if err := idArgs(unitID, nil)(nil, args); err != nil || args[0] != "unit-3" || args[1] != "start" {
		t.Fatalf("idArgs: %v %v", err, args)
	}
	for _, c := range []struct {
		k  *idKind
		in string
	}{{unitID, "u3"}, {unitID, "unit-0"}, {resID, "reservation-1"}, {resID, "-1"}, {accessKeyID, "short"}} {
		_, err := c.k.normalize(c.in)
		if err == nil || !strings.Contains(err.Error(), c.k.example) || strings.Contains(err.Error(), "^") {
			t.Errorf("%s %q: %v", c.k.what, c.in, err)
		}
	}
	if id, err := accessKeyID.normalize("fbabcdefgh23456789"); err != nil || id != "FBABCDEFGH23456789" {
		t.Errorf("access key id: %q %v", id, err)
	}
}

func TestAmountArgs(t *testing.T) {
	for _, s := range []string{"-5FLASH", "0", "0FLASH", "-1"} {
		if _, err := parsePositiveAmount(s); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("%s: %v", s, err)
		}
	}
	if a, err := parsePositiveAmount("1.5FLASH"); err != nil || a != 1_500_000 {
		t.Errorf("1.5FLASH: %d %v", a, err)
	}
	err := flagError(nil, errors.New("unknown shorthand flag: '5' in -5FLASH"))
	if !strings.Contains(err.Error(), "-5FLASH: amounts must be positive") {
		t.Errorf("flagError: %v", err)
	}
	if err := flagError(nil, errors.New("unknown flag: --colour")); err.Error() != "unknown flag: --colour" {
		t.Errorf("flagError changed an unrelated error: %v", err)
	}
}
