package main

// Printing errors: once, with the stable code, and in text with the
// figures people read (48 GiB, 1.5 FLASH, 30d) where the chain writes raw
// units (51539607552 bytes, 1500000uflash, 2592000 seconds). -o json keeps
// the raw message, for scripts.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// codedError is an error carrying the chain's or API's stable code.
type codedError struct {
	code, msg string
}

func (e *codedError) Error() string { return fmt.Sprintf("%s (%s)", e.msg, e.code) }

// withoutCode drops the "code: " prefix the contract puts on its messages,
// since the code is printed after the message.
func withoutCode(msg, code string) string {
	msg = strings.TrimSpace(msg)
	if code == "" {
		return msg
	}
	// The code may follow a "message 0 (market/reserve): " prefix.
	return strings.Replace(msg, code+": ", "", 1)
}

// explainTx makes tx failures one line each: a simulation's refusal (no
// fee charged) or a committed failure (fee charged).
func explainTx(err error) error {
	var se *client.SimulatedError
	if errors.As(err, &se) {
		what := "refused before broadcast, nothing sent and no fee charged"
		if se.DryRun {
			what = "dry run: the tx would fail (nothing sent)"
		}
		msg := what + ": " + withoutCode(se.Result.Log, se.Result.CodeName)
		if se.Result.CodeName == core.CodeInsufficientFunds.Name() && se.Result.Fee > 0 {
			// The message's balance is what is left once the fee is paid.
			msg += fmt.Sprintf(" (the balance shown is after the %duflash tx fee)", se.Result.Fee)
		}
		return &codedError{code: se.Result.CodeName, msg: msg}
	}
	var te *client.TxError
	if errors.As(err, &te) {
		r := te.Result
		return &codedError{code: r.CodeName, msg: fmt.Sprintf("tx %s failed at height %d (the fee was charged): %s", r.Hash, r.Height, withoutCode(r.Log, r.CodeName))}
	}
	return err
}

// reportError prints err to stderr: text in human units, or with -o json
// an object with the raw message and the code.
func reportError(root *cobra.Command, err error) {
	output := "text"
	if f := root.PersistentFlags().Lookup("output"); f != nil {
		output = f.Value.String()
	}
	writeError(os.Stderr, output, err)
}

func writeError(w io.Writer, output string, err error) {
	if output == "json" {
		out := struct {
			Error string `json:"error"`
			Code  string `json:"code,omitempty"`
		}{Error: err.Error()}
		var ce *codedError
		if errors.As(err, &ce) {
			out.Error, out.Code = ce.msg, ce.code
		}
		b, _ := json.Marshal(out)
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintln(w, "Error:", humanize(err.Error()))
}

var (
	rawBytes   = regexp.MustCompile(`\b([0-9]+) bytes\b`)
	rawUflash  = regexp.MustCompile(`\b([0-9]+) ?uflash\b`)
	rawSeconds = regexp.MustCompile(`\b([0-9]+) seconds\b`)
)

// humanize rewrites every "N bytes" (from 1 KiB), "Nuflash" and "N seconds"
// (from a minute) in s in human units. The chain's messages give every
// figure its unit, so this one rule covers all of them.
func humanize(s string) string {
	s = rawBytes.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(rawBytes.FindStringSubmatch(m)[1], 10, 64)
		if err != nil || n < 1024 {
			return m
		}
		return bytesHuman(n)
	})
	s = rawUflash.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(rawUflash.FindStringSubmatch(m)[1], 10, 64)
		if err != nil {
			return m
		}
		return client.FormatAmount(core.Amount(n))
	})
	return rawSeconds.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseInt(rawSeconds.FindStringSubmatch(m)[1], 10, 64)
		if err != nil || n < 60 {
			return m
		}
		return durHuman(n)
	})
}
