// Command fakediscord serves impl/discord/discordtest's fake Discord on
// loopback for .ci/dashboard-browser, outside any Go test: one OAuth2
// application, a user whom the authorize page logs in at once, and the
// guilds that user is in. It writes its API base and authorize URL to
// ADDR_FILE, one a line, once it is listening, and serves until it is
// interrupted or terminated.
//
// Usage: fakediscord -redirect-uri URI -user ID -guild ID=NAME... ADDR_FILE
//
// The application's client id and secret are in the environment, as
// apikeyd reads them (APIKEYD_DISCORD_CLIENT_ID,
// APIKEYD_DISCORD_CLIENT_SECRET), so that the secret is in no process's
// arguments.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

// guildFlags collects each -guild ID=NAME.
type guildFlags []discordtest.Guild

func (g *guildFlags) String() string { return fmt.Sprint(*g) }

func (g *guildFlags) Set(v string) error {
	id, name, ok := strings.Cut(v, "=")
	if !ok || id == "" || name == "" {
		return errors.New("want ID=NAME")
	}
	*g = append(*g, discordtest.Guild{ID: id, Name: name})
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fakediscord:", err)
		os.Exit(1)
	}
}

func run() error {
	redirectURI := flag.String("redirect-uri", "", "the application's one redirect URI")
	user := flag.String("user", "", "id of the user the authorize page logs in")
	var guilds guildFlags
	flag.Var(&guilds, "guild", "a guild of the user, as ID=NAME (repeatable)")
	flag.Parse()
	clientID, secret := os.Getenv("APIKEYD_DISCORD_CLIENT_ID"), os.Getenv("APIKEYD_DISCORD_CLIENT_SECRET")
	if flag.NArg() != 1 || *redirectURI == "" || *user == "" || clientID == "" || secret == "" {
		flag.Usage()
		return errors.New("need -redirect-uri, -user, ADDR_FILE and both APIKEYD_DISCORD_CLIENT_* variables")
	}

	fake := discordtest.Start()
	defer fake.Close()
	fake.AddApp(clientID, secret, *redirectURI)
	fake.LoginAs(*user)
	fake.AddGuilds(*user, guilds...)

	// Written whole, then renamed, so that a reader polling for the file
	// never sees half of it.
	addrFile := flag.Arg(0)
	if err := os.WriteFile(addrFile+".tmp", []byte(fake.URL()+"\n"+fake.AuthorizeURL()+"\n"), 0o600); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return nil
}
