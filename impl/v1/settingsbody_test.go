package v1

import (
	"testing"

	"github.com/apikeyd/apikeyd/impl/store"
)

func TestSameSettingsComparesAutoDeleteByValue(t *testing.T) {
	sixty, sixtyAgain, ninety := int64(60), int64(60), int64(90)
	base := store.GuildSettings{ID: 1, GuildID: 2, Language: "en", GMT: "UTC", UnitSystem: "metric"}
	with := func(d *int64) store.GuildSettings { s := base; s.AutoDelete = d; return s }
	for _, c := range []struct {
		name string
		a, b store.GuildSettings
		want bool
	}{
		{"both off", with(nil), with(nil), true},
		{"same value, two pointers", with(&sixty), with(&sixtyAgain), true},
		{"other value", with(&sixty), with(&ninety), false},
		{"off and on", with(nil), with(&sixty), false},
		{"on and off", with(&sixty), with(nil), false},
		{"other field", with(&sixty), func() store.GuildSettings { s := with(&sixty); s.LoggingEnabled = true; return s }(), false},
	} {
		if got := sameSettings(c.a, c.b); got != c.want {
			t.Errorf("%s: sameSettings = %v, want %v", c.name, got, c.want)
		}
	}
}
