package discordtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// channel is the channel of the bot of botWithChannel.
const channel = "1198765432109876543"

// botWithChannel is a fake Discord with a bot in a guild that has
// channel, and that bot.
func botWithChannel(t *testing.T) (*discordtest.Server, *discord.Bot) {
	const token, guild = "a-bot-token", "1098765432109876543"
	fake := discordtest.NewServer(t)
	fake.AddBot(token, false)
	fake.AddBotGuild(discordtest.BotGuild{ID: guild, Channels: []discordtest.Channel{{ID: channel}}})
	return fake, discord.NewBot(discord.BotConfig{BaseURL: fake.URL(), Token: token})
}

// The fake posts a message once per enforced nonce, as Discord does: the
// Bot sending one twice posts it once; it knows only the bot's channels,
// and its 429s reach the Bot as a wait.
func TestMessagesAndTheirNonces(t *testing.T) {
	fake, bot := botWithChannel(t)
	ctx := context.Background()
	m := discord.Message{Nonce: "ABCDEFGHIJKLMNOPQRSTUVWX", Embed: discord.Embed{Title: "t", Description: "d", Timestamp: time.Now()}}
	for range 2 {
		if err := bot.PostMessage(ctx, channel, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fake.Posted(channel)); n != 1 || fake.MessageSends() != 2 {
		t.Errorf("%d posted of %d sent, want 1 of 2", n, fake.MessageSends())
	}
	m.Nonce = "another"
	if err := bot.PostMessage(ctx, channel, m); err != nil || len(fake.Posted(channel)) != 2 {
		t.Errorf("a new nonce: %v, %d posted", err, len(fake.Posted(channel)))
	}
	if err := bot.PostMessage(ctx, "1298765432109876543", m); apierr.CodeOf(err) != apierr.NotFound {
		t.Errorf("an unknown channel: %v, want NotFound", err)
	}
	fake.RateLimit("user", 2*time.Second)
	if err := bot.PostMessage(ctx, channel, m); apierr.From(err).RetryAfter <= 0 {
		t.Errorf("a 429: %v, want a RetryAfter", err)
	}
}

// The fake tells how many posts to a channel were in flight at once: one
// after another, 1; two held together, 2.
func TestTheFakeSeesConcurrentPosts(t *testing.T) {
	fake, bot := botWithChannel(t)
	post := func(nonce string) error {
		return bot.PostMessage(context.Background(), channel, discord.Message{Nonce: nonce, Embed: discord.Embed{Title: "t", Timestamp: time.Now()}})
	}
	for _, nonce := range []string{"one", "two"} {
		if err := post(nonce); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.MostConcurrentPosts(channel); n != 1 {
		t.Fatalf("posts one after another: %d at once, want 1", n)
	}
	release := fake.Hold()
	errs := make(chan error, 2)
	for _, nonce := range []string{"three", "four"} {
		go func() { errs <- post(nonce) }()
	}
	// Held, both are in flight at once.
	deadline := time.Now().Add(5 * time.Second)
	for fake.MostConcurrentPosts(channel) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	release()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.MostConcurrentPosts(channel); n != 2 {
		t.Errorf("two posts held together: %d at once, want 2", n)
	}
}
