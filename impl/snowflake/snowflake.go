// Package snowflake carries Discord ids (guilds, users, channels) through
// JSON without losing digits: they exceed 2^53, where JavaScript numbers and
// float64 round. Requests may send one as an integer (as Husqy's documents
// declare) or as a digit string; responses always carry a string.
package snowflake

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ID is a Discord snowflake. The zero ID means unset and is written as "".
type ID int64

var errNotSnowflake = errors.New("must be an integer below 2^63 without leading zeros, as a number or a digit string")

// Parse reads a snowflake from its decimal digits, written as Go and JSON
// write the number: no sign and no leading zeros, so that one id has one
// spelling ("042" is not guild 42). Zero parses, as the unset id; where
// an id is required, the document refuses it.
func Parse(s string) (ID, error) {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, errNotSnowflake
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errNotSnowflake
		}
	}
	// Below 2^63, so that every id fits SQLite's (and PostgreSQL's) int64.
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errNotSnowflake
	}
	return ID(n), nil
}

func (id ID) String() string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(int64(id), 10)
}

// MarshalText writes the id as digits, so JSON carries it as a string.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads query and path parameters.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// UnmarshalJSON accepts 123 and "123" alike, reading the digits exactly,
// and "" as unset (as responses write it).
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
		if len(b) == 0 {
			*id = 0
			return nil
		}
	}
	v, err := Parse(string(b))
	if err != nil {
		return fmt.Errorf("snowflake: %w", err)
	}
	*id = v
	return nil
}
