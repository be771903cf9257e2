package core

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
	CodeLimitExceeded     Code = 28
	CodeUsageOutOfBounds  Code = 29
	CodeNotAssigned       Code = 30
	CodeOracleJailed      Code = 31
	CodeQuorumTooLarge    Code = 32
	CodeSameProvider      Code = 33
	// Disputes (contract/dispute).
	CodeBadReceipt       Code = 34 // a receipt that does not verify or is not the reservation's
	CodeDisputesRefused  Code = 35 // the unit refuses consumers with this many disputes not upheld
	CodeDuplicateVerdict Code = 36
)

// maxCode is the highest code defined (codes are appended in order).
const maxCode = CodeDuplicateVerdict

// codeName is the stable name of a known code ("" for others).
func codeName(c Code) string {
	switch c {
	case CodeOK:
		return "ok"
	case CodeInternal:
		return "internal"
	case CodeTxDecode:
		return "tx_decode"
	case CodeTxTooLarge:
		return "tx_too_large"
	case CodeWrongChainID:
		return "wrong_chain_id"
	case CodeBadSequence:
		return "bad_sequence"
	case CodeBadSignature:
		return "bad_signature"
	case CodeUnknownMessage:
		return "unknown_message"
	case CodeInvalidMessage:
		return "invalid_message"
	case CodeInsufficientFunds:
		return "insufficient_funds"
	case CodeInsufficientFee:
		return "insufficient_fee"
	case CodeInvalidAddress:
		return "invalid_address"
	case CodeUnauthorized:
		return "unauthorized"
	case CodeNotFound:
		return "not_found"
	case CodeOverflow:
		return "overflow"
	case CodeWrongState:
		return "wrong_state"
	case CodeNoCapacity:
		return "no_capacity"
	case CodePriceTooHigh:
		return "price_too_high"
	case CodeAlreadyExists:
		return "already_exists"
	case CodeInvalidAmount:
		return "invalid_amount"
	case CodeInvalidQuery:
		return "invalid_query"
	case CodeInsufficientStake:
		return "insufficient_stake"
	case CodeNotOracle:
		return "not_oracle"
	case CodeFutureEpoch:
		return "future_epoch"
	case CodeLateReport:
		return "late_report"
	case CodeDuplicateReport:
		return "duplicate_report"
	case CodeTooManyUnits:
		return "too_many_units"
	case CodeUnitSuspended:
		return "unit_suspended"
	case CodeLimitExceeded:
		return "limit_exceeded"
	case CodeUsageOutOfBounds:
		return "usage_out_of_bounds"
	case CodeNotAssigned:
		return "not_assigned"
	case CodeOracleJailed:
		return "oracle_jailed"
	case CodeQuorumTooLarge:
		return "quorum_too_large"
	case CodeSameProvider:
		return "same_provider"
	case CodeBadReceipt:
		return "bad_receipt"
	case CodeDisputesRefused:
		return "disputes_refused"
	case CodeDuplicateVerdict:
		return "duplicate_verdict"
	}
	return ""
}

// Name returns the stable snake_case name of a code.
func (c Code) Name() string {
	if n := codeName(c); n != "" {
		return n
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// CodeByName is the inverse of Name, for clients that only have the string.
func CodeByName(name string) (Code, bool) {
	for c := CodeOK; c <= maxCode; c++ {
		if n := codeName(c); n != "" && n == name {
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

// Error is the code name and the message.
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
