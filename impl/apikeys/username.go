package apikeys

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/apikeyd/apikeyd/impl/store"
)

// userNameRule is the document's x-pattern-message for a user name.
const userNameRule = "must be UTF-8 text without control or format characters, not blank"

// CheckUserName refuses what the server refuses in a user name beyond the
// document's pattern (which a caller checks first): a format character
// beyond U+FFFF, and a name that reads as System. It serves those who
// name users outside a request, such as a seed file.
func CheckUserName(user string) error {
	if hasWideFormatCharacter(user) {
		return errors.New(userNameRule)
	}
	if isSystemName(user) {
		return errors.New("cannot be System, in any spelling: the System key is APIKEYD_SYSTEM_KEY's")
	}
	return nil
}

// hasWideFormatCharacter reports a format character (Unicode category Cf)
// beyond U+FFFF, such as a tag character: the document's pattern refuses
// the others, but cannot name these in a way every regex dialect reads.
func hasWideFormatCharacter(user string) bool {
	for _, r := range user {
		if r > 0xFFFF && unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

// isSystemName says whether a user name reads as "System": in any casing,
// in fullwidth or other compatibility letters, or with invisible
// characters inside. It compares the name's NFKC_Casefold (Unicode's
// identifier folding) with that of "System". The document refuses format
// characters in names already; the default-ignorable ones it lets through
// (such as U+034F or the Hangul fillers) are dropped here, as
// NFKC_Casefold drops them.
func isSystemName(user string) bool {
	return nfkcCasefold(user) == systemFolded
}

var systemFolded = nfkcCasefold(store.SystemUser)

// nfkcCasefold approximates Unicode's NFKC_Casefold mapping with
// x/text: drop default-ignorable code points, normalise to NFKC, fold the
// case and normalise again (folding can undo a normal form).
func nfkcCasefold(s string) string {
	s = strings.Map(func(r rune) rune {
		if isDefaultIgnorable(r) {
			return -1
		}
		return r
	}, s)
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// isDefaultIgnorable is Unicode's Default_Ignorable_Code_Point, from the
// properties Go's unicode package carries: Other_Default_Ignorable_Code_Point,
// format characters and variation selectors, less the few format characters
// that are visible (interlinear annotation, Egyptian format controls and
// prepended concatenation marks).
func isDefaultIgnorable(r rune) bool {
	switch {
	case r >= 0xFFF9 && r <= 0xFFFB, r >= 0x13430 && r <= 0x1343F, // annotation, Egyptian
		r >= 0x0600 && r <= 0x0605, r == 0x06DD, r == 0x070F, r == 0x0890, r == 0x0891,
		r == 0x08E2, r == 0x110BD, r == 0x110CD: // prepended concatenation marks
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}
