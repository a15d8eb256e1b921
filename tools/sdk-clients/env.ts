// What .ci/sdk-clients gives each TypeScript round trip, copied into the
// project's src/ beside roundtrip.ts: the environment (APIKEYD_URL,
// SYSTEM_KEY, DISCORD_TOKEN, and GUILD_ID and KEY_USER, a guild and a
// /apiKeys user of this run's own) and how a run ends.

export const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
export const base = env("APIKEYD_URL");
export const guildId = env("GUILD_ID");
export const user = env("KEY_USER");

// run runs a round trip, ending the process with exit status 1 at its
// first failure.
export function run(generator: string, roundTrip: () => Promise<void>): void {
  roundTrip().then(
    () => console.log(`the ${generator} clients' round trip passed`),
    (err: unknown) => {
      console.error("FAIL:", err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
