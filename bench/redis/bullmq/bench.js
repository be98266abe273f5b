// BullMQ baseline for bench/redis/run.sh: one producer process (Queue.addBulk in chunks of
// 1,000) and W worker processes (Worker, concurrency 50, trivial processor) on one Redis;
// first add -> last completion, as bench_redis_queue measures its own queue.
//   node bench.js <redis uri> [jobs] [workers] [records per job]
'use strict';
const { fork } = require('child_process');
const { Queue, Worker } = require('bullmq');

const [uri, jobsArg, workersArg, perJobArg, role, queueName] = process.argv.slice(2);
const jobs = Number(jobsArg || 100000);
const workers = Number(workersArg || 2);
const perJob = Number(perJobArg || 1);
const url = new URL(uri);
const connection = { host: url.hostname, port: Number(url.port), db: Number(url.pathname.slice(1) || 0),
                     maxRetriesPerRequest: null };

async function producer(name) {
  const queue = new Queue(name, { connection });
  const record = (i) => (perJob === 1 ? { i } : { records: Array.from({ length: perJob }, (_, k) => ({ i: i * perJob + k })) });
  for (let i = 0; i < jobs; i += 1000) {
    const chunk = [];
    for (let j = i; j < Math.min(jobs, i + 1000); j++) chunk.push({ name: 'j', data: record(j), opts: { removeOnComplete: true } });
    await queue.addBulk(chunk);
  }
  await queue.close();
}

async function worker(name) {
  let done = 0;
  const w = new Worker(name, async (job) => job.data.i, { connection, concurrency: 50 });
  w.on('completed', () => { done++; });
  const timer = setInterval(() => process.send({ done }), 20);
  process.on('message', async (m) => {
    if (m === 'stop') { clearInterval(timer); await w.close(); process.exit(0); }
  });
}

async function main() {
  const name = `bench${process.pid}`;
  const children = [];
  const counts = new Array(workers).fill(0);
  let resolveDone;
  const allDone = new Promise((r) => { resolveDone = r; });
  for (let k = 0; k < workers; k++) {
    const c = fork(__filename, [uri, jobs, workers, perJob, 'worker', name]);
    c.on('message', (m) => { counts[k] = m.done; if (counts.reduce((a, b) => a + b, 0) >= jobs) resolveDone(); });
    children.push(c);
  }
  await new Promise((r) => setTimeout(r, 1000));  // workers connected and waiting
  const start = process.hrtime.bigint();
  const p = fork(__filename, [uri, jobs, workers, perJob, 'producer', name]);
  const producerExited = new Promise((r) => p.on('exit', r));  // attached now: it may end first
  await allDone;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const c of children) c.send('stop');
  await producerExited;
  const q = new Queue(name, { connection });
  await q.obliterate({ force: true });
  await q.close();
  console.log(`bullmq messages=${jobs} per_message=${perJob} workers=${workers} seconds=${seconds.toFixed(2)} ` +
              `messages_per_s=${Math.round(jobs / seconds)} records_per_s=${Math.round(jobs * perJob / seconds)}`);
}

if (role === 'producer') producer(queueName).catch((e) => { console.error(e); process.exit(1); });
else if (role === 'worker') worker(queueName).catch((e) => { console.error(e); process.exit(1); });
else main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
