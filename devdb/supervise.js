// Keeps one devdb running: a WASM trap kills the server process, so it is restarted
// (with back-off) until this supervisor is told to stop. Arguments go to server.js.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('./server.js', import.meta.url));
const args = process.argv.slice(2);
let child;
let stopping = false;
let quickFailures = 0;

function start() {
  const startedAt = Date.now();
  child = spawn(process.execPath, [server, ...args], { stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    // 0: a clean stop (signal or parent gone); 2: bad arguments. Neither is retried.
    if (stopping || code === 0 || code === 2) process.exit(code ?? 0);
    quickFailures = Date.now() - startedAt > 30_000 ? 0 : quickFailures + 1;
    const delay = Math.min(30_000, 500 * 2 ** quickFailures);
    console.error(`devdb: server died (${signal ?? `exit ${code}`}); restarting in ${delay} ms`);
    setTimeout(start, delay);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    child?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
start();
