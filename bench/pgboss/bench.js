// pg-boss baseline for bench/postgres/run.sh: one producer process (insert in chunks of
// 1,000 jobs) and W worker processes (work() with batchSize 500, the shortest polling interval
// pg-boss allows, trivial handler) on one PostgreSQL database; first insert -> last completion,
// as bench_postgres_queue measures its own queue.
//   node bench.js <postgres uri> [jobs] [workers] [records per job]
'use strict';
const { fork } = require('child_process');
const PgBoss = require('pg-boss');

const [uri, jobsArg, workersArg, perJobArg, role, queueName] = process.argv.slice(2);
const jobs = Number(jobsArg || 100000);
const workers = Number(workersArg || 2);
const perJob = Number(perJobArg || 1);
const schema = 'pgboss_bench';

async function boss() {
  const b = new PgBoss({ connectionString: uri, schema, supervise: false, schedule: false });
  b.on('error', (e) => console.error(e));
  await b.start();
  return b;
}

async function producer(name) {
  const b = await boss();
  const record = (i) => (perJob === 1 ? { i } : { records: Array.from({ length: perJob }, (_, k) => ({ i: i * perJob + k })) });
  for (let i = 0; i < jobs; i += 1000) {
    const chunk = [];
    for (let j = i; j < Math.min(jobs, i + 1000); j++) chunk.push({ name, data: record(j) });
    await b.insert(chunk);
  }
  await b.stop({ graceful: false, wait: false });
}

async function worker(name) {
  const b = await boss();
  let done = 0;
  await b.work(name, { batchSize: 500, pollingIntervalSeconds: 0.5 }, async (batch) => { done += batch.length; });
  const timer = setInterval(() => process.send({ done }), 20);
  process.on('message', async (m) => {
    if (m === 'stop') { clearInterval(timer); await b.stop({ graceful: false, wait: false }); process.exit(0); }
  });
}

async function main() {
  const name = `bench${process.pid}`;
  const setup = await boss();
  await setup.createQueue(name);
  const children = [];
  const counts = new Array(workers).fill(0);
  let resolveDone;
  const allDone = new Promise((r) => { resolveDone = r; });
  for (let k = 0; k < workers; k++) {
    const c = fork(__filename, [uri, jobs, workers, perJob, 'worker', name]);
    c.on('message', (m) => { counts[k] = m.done; if (counts.reduce((a, b) => a + b, 0) >= jobs) resolveDone(); });
    children.push(c);
  }
  await new Promise((r) => setTimeout(r, 1500));  // workers connected and polling
  const start = process.hrtime.bigint();
  const p = fork(__filename, [uri, jobs, workers, perJob, 'producer', name]);
  const producerExited = new Promise((r) => p.on('exit', r));  // attached now: it may end first
  await allDone;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const c of children) c.send('stop');
  await producerExited;
  // The completed jobs stay in pg-boss's schema (pgboss_bench) of the throwaway database.
  await setup.stop({ graceful: false, wait: false });
  console.log(`pg-boss messages=${jobs} per_message=${perJob} workers=${workers} seconds=${seconds.toFixed(2)} ` +
              `messages_per_s=${Math.round(jobs / seconds)} records_per_s=${Math.round(jobs * perJob / seconds)}`);
}

if (role === 'producer') producer(queueName).catch((e) => { console.error(e); process.exit(1); });
else if (role === 'worker') worker(queueName).catch((e) => { console.error(e); process.exit(1); });
else main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
