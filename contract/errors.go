package contract

import (
	"errors"
	"fmt"
)

// Codespace names the error codes below in ABCI results.
const Codespace = "flashback"

// Code is a stable error code: once released, a number and its name never
// change meaning. Clients switch on them; the message is for humans.
type Code uint32

// Error codes. Append only.
const (
	CodeOK                Code = 0
	CodeInternal          Code = 1
	CodeTxDecode          Code = 2
	CodeTxTooLarge        Code = 3
	CodeWrongChainID      Code = 4
	CodeBadSequence       Code = 5
	CodeBadSignature      Code = 6
	CodeUnknownMessage    Code = 7
	CodeInvalidMessage    Code = 8
	CodeInsufficientFunds Code = 9
	CodeInsufficientFee   Code = 10
	CodeInvalidAddress    Code = 11
	CodeUnauthorized      Code = 12
	CodeNotFound          Code = 13
	CodeOverflow          Code = 14
	CodeWrongState        Code = 15
	CodeNoCapacity        Code = 16
	CodePriceTooHigh      Code = 17
	CodeAlreadyExists     Code = 18
	CodeInvalidAmount     Code = 19
	CodeInvalidQuery      Code = 20
	CodeInsufficientStake Code = 21
	CodeNotOracle         Code = 22
	CodeFutureEpoch       Code = 23
	CodeLateReport        Code = 24
	CodeDuplicateReport   Code = 25
	CodeTooManyUnits      Code = 26
	CodeUnitSuspended     Code = 27
)

var codeNames = map[Code]string{
	CodeOK:                "ok",
	CodeInternal:          "internal",
	CodeTxDecode:          "tx_decode",
	CodeTxTooLarge:        "tx_too_large",
	CodeWrongChainID:      "wrong_chain_id",
	CodeBadSequence:       "bad_sequence",
	CodeBadSignature:      "bad_signature",
	CodeUnknownMessage:    "unknown_message",
	CodeInvalidMessage:    "invalid_message",
	CodeInsufficientFunds: "insufficient_funds",
	CodeInsufficientFee:   "insufficient_fee",
	CodeInvalidAddress:    "invalid_address",
	CodeUnauthorized:      "unauthorized",
	CodeNotFound:          "not_found",
	CodeOverflow:          "overflow",
	CodeWrongState:        "wrong_state",
	CodeNoCapacity:        "no_capacity",
	CodePriceTooHigh:      "price_too_high",
	CodeAlreadyExists:     "already_exists",
	CodeInvalidAmount:     "invalid_amount",
	CodeInvalidQuery:      "invalid_query",
	CodeInsufficientStake: "insufficient_stake",
	CodeNotOracle:         "not_oracle",
	CodeFutureEpoch:       "future_epoch",
	CodeLateReport:        "late_report",
	CodeDuplicateReport:   "duplicate_report",
	CodeTooManyUnits:      "too_many_units",
	CodeUnitSuspended:     "unit_suspended",
}

// Name returns the stable snake_case name of a code.
func (c Code) Name() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// CodeByName is the inverse of Name, for clients that only have the string.
func CodeByName(name string) (Code, bool) {
	for c, n := range codeNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// Error is a rejection with a stable code and a message that says what to fix.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Code.Name() + ": " + e.Msg }

// Errf builds an *Error.
func Errf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code carried by err, CodeInternal for foreign errors and
// CodeOK for nil.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
