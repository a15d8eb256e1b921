package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// logStore opens a store on db, sealing with sealer, that queues messages
// for the logs channel.
func (db database) logStore(t *testing.T, sealer *keys.Sealer) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), db.open(t), store.Config{Sealer: sealer, LogMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// erasing is an erasure of member's logging entries started in the
// background, answering on done.
func erasing(st *store.Store, guild, member snowflake.ID) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := st.EraseLoggingEntriesOf(context.Background(), guild, store.APIKeyActor, member)
		done <- err
	}()
	return done
}

// waitingFor fails t unless the erasure is still waiting after a while.
func waitingFor(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("the erasure answered (%v) while a message naming the member was claimed", err)
	case <-time.After(200 * time.Millisecond):
	}
}

// testErasureWaitsForAClaim: an erasure on one process waits for the
// message naming the member that another process's sender claimed
// (issue #13), and meanwhile no sender claims another; a claim that is
// never settled, its sender dead, lapses with its lease and the erasure
// goes on. What is queued after the erasure names the member nowhere.
func testErasureWaitsForAClaim(t *testing.T, db database) {
	ctx := context.Background()
	sealer := newSealer(t)
	sender, eraser := db.logStore(t, sealer), db.logStore(t, sealer)
	const guild, member, channel = snowflake.ID(9), snowflake.ID(90), snowflake.ID(900)
	must(sender.AddGuildAdmin(ctx, guild, member))(t)
	ch := channel
	must(sender.UpdateLoggingSettings(ctx, guild, store.Actor{UserID: member}, store.LoggingChange{LogsChannelID: &ch}, nil))(t)
	must(sender.SetLoggingEnabled(ctx, guild, store.Actor{UserID: member}, true))(t)
	lang := "de"
	must(sender.UpdateGuildSettings(ctx, guild, store.Actor{UserID: member}, store.SettingsChange{Language: &lang}))(t)

	c, claimed := must2(sender.ClaimNextLogMessage(ctx, guild, "sender", time.Minute))(t)
	if !claimed || c.Action != store.ActionLoggingEnabled || c.Actor.UserID != member {
		t.Fatalf("the claim: %v %+v, want the module's enabling by the member", claimed, c)
	}
	done := erasing(eraser, guild, member)
	waitingFor(t, done)
	if _, claimed := must2(sender.ClaimNextLogMessage(ctx, guild, "sender", time.Minute))(t); claimed {
		t.Error("the sender claimed another message while the erasure waited")
	}
	if err := sender.LogMessageDelivered(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the erasure after the post settled: %v", err)
	}

	if posted := drain(t, sender, guild, "sender", member); len(posted) != 2 {
		t.Errorf("posted after the first erasure: %v, want the language's message and the erasure's", posted)
	}

	// A message naming the member, claimed by the sender, which dies
	// with it.
	lang = "fr"
	must(sender.UpdateGuildSettings(ctx, guild, store.Actor{UserID: member}, store.SettingsChange{Language: &lang}))(t)
	dead, claimed := must2(sender.ClaimNextLogMessage(ctx, guild, "sender", 300*time.Millisecond))(t)
	if !claimed || dead.Actor.UserID != member {
		t.Fatalf("the claim: %v %+v, want the member's change", claimed, dead)
	}
	start := time.Now()
	done = erasing(eraser, guild, member)
	waitingFor(t, done)
	if err := <-done; err != nil {
		t.Fatalf("the erasure after the dead sender's claim lapsed: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the erasure waited %v for a claim of 300 ms", waited)
	}
	// Another sender takes the guild over: the dead sender's message
	// first, rewritten.
	if posted := drain(t, sender, guild, "heir", member); len(posted) != 2 || posted[0] != dead.ID {
		t.Errorf("posted after the dead sender: %v, want its message %d first and the erasure's", posted, dead.ID)
	}
}

// drain claims and delivers guild's messages as holder, none of which may
// name member, and returns their ids.
func drain(t *testing.T, st *store.Store, guild snowflake.ID, holder string, member snowflake.ID) []int64 {
	t.Helper()
	var posted []int64
	for {
		m, claimed := must2(st.ClaimNextLogMessage(context.Background(), guild, holder, time.Minute))(t)
		if !claimed {
			return posted
		}
		if m.Actor.UserID == member || strings.Contains(fmt.Sprint(m.Changes), member.String()) {
			t.Errorf("message %d after an erasure names the member: %+v", m.ID, m)
		}
		posted = append(posted, m.ID)
		if err := st.LogMessageDelivered(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}
