// A stand-in for Discord's API, for .ci/sdk-ts: GET /api/v10/users/@me
// answers with the administrator's user for the token ts-admin-token, and
// with Discord's 401 for any other. It listens on a free loopback port and
// writes the port to the file given as its one argument.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";

export const adminToken = "ts-admin-token";
export const adminUser = {
  id: "310987654321098765",
  username: "admin",
  discriminator: "0",
  global_name: null,
  avatar: null,
};

const portFile = process.argv[2];
if (!portFile) {
  console.error("usage: fake-discord.mjs PORT_FILE");
  process.exit(2);
}

const server = createServer((req, res) => {
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const path = new URL(req.url ?? "/", "http://discord.invalid").pathname;
  if (req.method !== "GET" || path !== "/api/v10/users/@me") {
    reply(404, { message: "404: Not Found", code: 0 });
  } else if (req.headers.authorization === `Bearer ${adminToken}`) {
    reply(200, adminUser);
  } else {
    reply(401, { message: "401: Unauthorized", code: 0 });
  }
  console.error(`fake Discord: ${req.method} ${req.url} -> ${res.statusCode}`);
});

server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  writeFileSync(portFile, String(addr.port));
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
