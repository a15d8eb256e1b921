package store

import (
	"context"
	"testing"

	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// BenchmarkGuildKeyLookup is authenticating a request with a guild key,
// from the cache and from the database.
func BenchmarkGuildKeyLookup(b *testing.B) {
	ctx := context.Background()
	st := openReal(b, b.TempDir()+"/b.db")
	k, err := st.CreateGuildKey(ctx, snowflake.ID(1), Actor{UserID: 2}, 25)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.GuildKeyByToken(ctx, k.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("database", func(b *testing.B) {
		for b.Loop() {
			st.guildKeys.forget(nil) // bumps the generation: nothing is cached
			st.guildKeys.entries = map[string]GuildKeyRef{}
			if _, err := st.GuildKeyByToken(ctx, k.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
