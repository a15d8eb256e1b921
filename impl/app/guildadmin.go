package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/apikeyd/apikeyd/impl/snowflake"
)

const guildAdminUsage = `Usage:
  apikeyd guild-admin add    --guild G --user U [--data-dir D] [--db F]
  apikeyd guild-admin remove --guild G --user U [--data-dir D] [--db F]
  apikeyd guild-admin list   [--guild G]        [--data-dir D] [--db F]

Grants or takes away the right of Discord user U to manage guild G through
/v1 (registering G if it is new). It works on the same data while a server
runs, and the server sees the change on its next request.

Where the database is missing although the data dir holds master.key or
system.key, it refuses to start an empty one unless --new-database (or
APIKEYD_NEW_DATABASE=true) says that is intended.
`

// guildAdmin runs `apikeyd guild-admin`.
func guildAdmin(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "remove" && args[0] != "list") {
		fmt.Fprint(env.Stderr, guildAdminUsage)
		return errUsage
	}
	action := args[0]
	var cfg Config
	var guildArg, userArg string
	fs, err := dataCommandFlags("apikeyd guild-admin "+action, guildAdminUsage, env, &cfg)
	if err != nil {
		return err
	}
	fs.StringVar(&guildArg, "guild", "", "guild id")
	fs.StringVar(&userArg, "user", "", "Discord user id")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	guild, user, err := parseGuildAdminIDs(action, guildArg, userArg)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, env.Schemas, slog.New(slog.NewTextHandler(env.Stderr, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	switch action {
	case "add":
		added, err := st.AddGuildAdmin(ctx, guild, user)
		if err != nil {
			return err
		}
		report(env.Stdout, added, "user %s now administers guild %s", "user %s already administers guild %s", user, guild)
	case "remove":
		removed, err := st.RemoveGuildAdmin(ctx, guild, user)
		if err != nil {
			return err
		}
		report(env.Stdout, removed, "user %s no longer administers guild %s", "user %s did not administer guild %s", user, guild)
	case "list":
		admins, err := st.ListGuildAdmins(ctx, guild)
		if err != nil {
			return err
		}
		for _, a := range admins {
			fmt.Fprintf(env.Stdout, "guild %s\tuser %s\tsince %s\n", a.GuildID, a.UserID, a.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
	}
	return nil
}

var errUsage = errors.New("see the usage above")

func parseGuildAdminIDs(action, guildArg, userArg string) (guild, user snowflake.ID, err error) {
	if guildArg != "" || action != "list" {
		if guild, err = snowflake.Parse(guildArg); err != nil || guild == 0 {
			return 0, 0, fmt.Errorf("--guild: want a guild id, got %q", guildArg)
		}
	}
	if action != "list" {
		if user, err = snowflake.Parse(userArg); err != nil || user == 0 {
			return 0, 0, fmt.Errorf("--user: want a Discord user id, got %q", userArg)
		}
	}
	return guild, user, nil
}

func report(w io.Writer, changed bool, did, already string, user, guild snowflake.ID) {
	if changed {
		fmt.Fprintf(w, did+"\n", user, guild)
		return
	}
	fmt.Fprintf(w, already+"\n", user, guild)
}
