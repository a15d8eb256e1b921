package contract_test

import (
	"encoding/json"
	"testing"

	"github.com/apikeyd/apikeyd/impl/contract"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMatch(t *testing.T) {
	const want = `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "2026-11-23T07:00:00Z", "n": 2, "list": ["a", "b"]}`
	cases := []struct {
		name, got string
		ok        bool
	}{
		{"same", want, true},
		{"another key of the kind", `{"token": "akdu_zP7M7n1YJ6oKSQRrIg01DO3iNNPTCq1SulWp", "at": "2026-11-23T07:00:00Z", "n": 2, "list": ["a", "b"]}`, true},
		{"another date-time", `{"token": "akdu_zP7M7n1YJ6oKSQRrIg01DO3iNNPTCq1SulWp", "at": "2027-01-01T00:00:00.123Z", "n": 2, "list": ["a", "b"]}`, true},
		{"a key of another kind", `{"token": "akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKK", "at": "2026-11-23T07:00:00Z", "n": 2, "list": ["a", "b"]}`, false},
		{"not a date-time", `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "yesterday", "n": 2, "list": ["a", "b"]}`, false},
		{"another number", `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "2026-11-23T07:00:00Z", "n": 3, "list": ["a", "b"]}`, false},
		{"an extra field", `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "2026-11-23T07:00:00Z", "n": 2, "list": ["a", "b"], "x": 1}`, false},
		{"a missing field", `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "2026-11-23T07:00:00Z", "list": ["a", "b"]}`, false},
		{"a longer list", `{"token": "akdu_lvUgyeWh7YCpbqgGTtaLWLBO2nUymk3jLlkj", "at": "2026-11-23T07:00:00Z", "n": 2, "list": ["a", "b", "c"]}`, false},
	}
	for _, c := range cases {
		if err := contract.Match(decode(t, want), decode(t, c.got)); (err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if err := contract.MatchContains(decode(t, `{"l": ["a", "c"]}`), decode(t, `{"l": ["a", "b", "c"]}`)); err != nil {
		t.Errorf("contains: %v", err)
	}
	if err := contract.MatchContains(decode(t, `{"l": ["a", "d"]}`), decode(t, `{"l": ["a", "b", "c"]}`)); err == nil {
		t.Error("contains accepted a missing item")
	}
}
