package main

// Positional arguments people get wrong: ids typed as bare numbers ("3"
// for unit-3) or in the wrong shape, and amounts with a minus sign, which
// cobra would read as a flag.

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// idKind is one kind of chain id: its prefix ("unit-") and shape.
type idKind struct {
	what, prefix, example, list string
	re                          *regexp.Regexp
}

var (
	unitID = &idKind{what: "unit", prefix: "unit-", example: "unit-3", list: "flashback query units",
		re: regexp.MustCompile(`^unit-[1-9][0-9]{0,19}$`)}
	resID = &idKind{what: "reservation", prefix: "res-", example: "res-3", list: "flashback query reservations --consumer ADDRESS",
		re: regexp.MustCompile(`^res-[1-9][0-9]{0,19}$`)}
	accessKeyID = &idKind{what: "access key", example: "FB3K7Q2M9X4T6W8R", list: "flashback query accesskeys --reservation res-N",
		re: regexp.MustCompile(`^[A-Z0-9]{16,32}$`)}
	bareNumber = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)
)

// normalize returns s as an id of kind k: a bare number N is taken as
// prefix-N (so `query unit 3` means unit-3); anything else of the wrong
// shape is a clear error naming the expected form.
func (k *idKind) normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if k.prefix != "" && bareNumber.MatchString(s) {
		return k.prefix + s, nil
	}
	if k.prefix == "" {
		s = strings.ToUpper(s)
	}
	if k.re.MatchString(s) {
		return s, nil
	}
	return "", fmt.Errorf("%q is not a %s id: %s ids look like %s (list them with `%s`)", s, k.what, k.what, k.example, k.list)
}

// idArgs is cobra.ExactArgs(len(kinds)) that also checks, and rewrites in
// place, each argument whose kind is not nil. cobra hands RunE the very
// slice it validated, so RunE sees "unit-3" where the user typed "3".
func idArgs(kinds ...*idKind) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(len(kinds))(cmd, args); err != nil {
			return err
		}
		for i, k := range kinds {
			if k == nil {
				continue
			}
			id, err := k.normalize(args[i])
			if err != nil {
				return err
			}
			args[i] = id
		}
		return nil
	}
}

// parsePositiveAmount reads an AMOUNT argument (uflash or with a unit) that
// must be above zero.
func parsePositiveAmount(s string) (core.Amount, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("amount %s: amounts must be positive", s)
	}
	a, err := client.ParseAmount(s)
	if err != nil {
		return 0, err
	}
	if a == 0 {
		return 0, fmt.Errorf("amount %s: amounts must be positive", s)
	}
	return a, nil
}

var negativeFlag = regexp.MustCompile(`unknown shorthand flag: '[0-9.]' in (-[0-9.][^ ]*)`)

// flagError turns cobra's "unknown shorthand flag: '5' in -5FLASH" into an
// error about the amount the user meant.
func flagError(_ *cobra.Command, err error) error {
	if m := negativeFlag.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("amount %s: amounts must be positive (a leading '-' is also read as a flag)", m[1])
	}
	return err
}

// normFlag normalizes an id given in a flag (--unit 3), if set.
func normFlag(k *idKind, p *string) error {
	if *p == "" {
		return nil
	}
	id, err := k.normalize(*p)
	if err != nil {
		return err
	}
	*p = id
	return nil
}
