// The seed system in one command: the producer and --workers worker processes on one BullMQ
// queue (as Docker Compose replicas ran them), until every job is done; then the check.
//   node run.mjs --feed listings_feed --rows 50000 [--name seed] [--sink mongodb|mysql] [--workers 4] [--fresh]
// Prints "system: N listings in S s (R listings/s) ..." and the check's line; exits 0 when the
// check passes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { check } from './check.mjs';
import { mongo, mysqlConnection, options, peakRssMb, redis } from './common.mjs';

const o = options();
const queue = new Queue(o.name, { connection: redis(o) });

if (o.fresh) {
  await queue.obliterate({ force: true });
  const r = redis(o);
  await r.del(o.failed);
  r.disconnect();
  if (o.sink === 'mongodb') {
    const client = mongo(o);
    await client.db(o.name).dropDatabase();
    await client.close();
  }
}
if (o.sink === 'mysql') {
  const db = await mysqlConnection(o);
  if (o.fresh) await db.query('DROP TABLE IF EXISTS ??', [o.table]);
  await db.query('CREATE TABLE IF NOT EXISTS ?? (id BIGINT PRIMARY KEY, city VARCHAR(255), price_cents BIGINT, ' +
                 'listed_on DATE, bedrooms INT)', [o.table]);
  await db.end();
}

const here = new URL('.', import.meta.url).pathname;
const start = (script) => spawn(process.execPath, [here + script, ...process.argv.slice(2)], { stdio: 'inherit' });
const exited = async (child) => (await once(child, 'exit'))[0];

const started = Date.now();
const producer = start('producer.mjs');
const workers = Array.from({ length: o.workers }, () => start('worker.mjs'));
const producerStatus = await exited(producer);
// Done when nothing waits, runs or waits for a retry: then the workers are stopped (SIGTERM).
let counts;
do {
  await sleep(50);
  counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
} while (producerStatus === 0 && counts.waiting + counts.active + counts.delayed + counts.prioritized > 0);
for (const w of workers) w.kill('SIGTERM');
const workerStatuses = await Promise.all(workers.map(exited));
const seconds = (Date.now() - started) / 1000;
console.log(`system: ${o.rows} listings in ${seconds.toFixed(1)} s (${Math.round(o.rows / seconds)} listings/s); ` +
  `producer exit ${producerStatus}; workers ${o.workers}, exits ${workerStatuses.join(' ')}; ` +
  `${counts.failed} jobs failed after their retries; orchestrator peak RSS ${peakRssMb()} MB`);
await queue.close();
const ok = producerStatus === 0 && workerStatuses.every((s) => s === 0) && counts.failed === 0 && (await check(o));
process.exit(ok ? 0 : 1);
