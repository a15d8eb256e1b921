package snowflake_test

import (
	"encoding/json"
	"testing"

	"github.com/apikeyd/apikeyd/impl/snowflake"
)

func TestParseOneSpellingPerID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want snowflake.ID
		ok   bool
	}{
		{"1098765432109876543", 1098765432109876543, true},
		{"1", 1, true},
		{"0", 0, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"042", 0, false},
		{"00", 0, false},
		{"", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{"1e3", 0, false},
		{"12345678901234567890", 0, false},
	} {
		got, err := snowflake.Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestJSONReadsNumbersAndStringsAlike(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`1098765432109876543`, true},
		{`"1098765432109876543"`, true},
		{`"042"`, false},
		{`042`, false},
		{`1.0`, false},
		{`"00"`, false},
	} {
		var id snowflake.ID
		err := json.Unmarshal([]byte(tc.in), &id)
		if (err == nil) != tc.ok {
			t.Errorf("Unmarshal(%s) = %d, %v; want ok %v", tc.in, id, err, tc.ok)
		}
	}
}
