package v1_test

import (
	"strings"
	"testing"
)

func TestAuthorizeSaysWhoseTokenItIs(t *testing.T) {
	w := newWorld(t)
	key := w.key(t, guild)
	cases := []struct {
		token, wantSub, wantTarget string
		wantStatus                 int
	}{
		{adminToken, admin.String(), "user", 200},
		{key, guild.String(), "api_key", 200},
		{"akdg_XpgGghSv9UQRtOEt6X31MRtELzaIPv3o1kKL", "", "", 401}, // mistyped
		{"akdg_GN7coj063ipReVRrtU9fWTdQLmVYLb2i5PdU", "", "", 401}, // never issued
		{"nobody-knows-this-token", "", "", 401},
	}
	for _, c := range cases {
		res, body := w.call(t, "POST", "/v1/auth/authorize", "", `{"access_token": "`+c.token+`"}`)
		if res.StatusCode != c.wantStatus {
			t.Errorf("%s: got %d, want %d: %s", c.token, res.StatusCode, c.wantStatus, body)
			continue
		}
		if c.wantStatus != 200 {
			if strings.Contains(string(body), c.token) {
				t.Errorf("the error repeats the token: %s", body)
			}
			continue
		}
		got := decodeData[struct{ Sub, Target, AccessToken string }](t, body)
		if got.Sub != c.wantSub || got.Target != c.wantTarget {
			t.Errorf("%s: got %+v", c.token, got)
		}
	}
}
