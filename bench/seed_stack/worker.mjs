// One seed worker process: a BullMQ Worker (concurrency 1) that normalises each row of a job,
// upserts the good listings by id (MongoDB bulkWrite of updateOne upserts, or one MySQL
// INSERT ... ON DUPLICATE KEY UPDATE) and pushes each bad row to the failed-rows list, in that
// order, so a job retried after a failed write pushes no bad row twice. SIGTERM: finish the job
// in hand, then exit.
import { Worker } from 'bullmq';
import { mongo, mysqlConnection, options, peakRssMb, redis } from './common.mjs';
import { normalise } from './listings.mjs';

const o = options();
const failed = redis(o);
const write = await sinkWriter();

async function sinkWriter() {
  if (o.sink === 'mongodb') {
    const listings = mongo(o).db(o.name).collection('listings');
    return (good) => listings.bulkWrite(
      good.map((l) => ({ updateOne: { filter: { id: l.id }, update: { $set: l }, upsert: true } })), { ordered: false });
  }
  const db = await mysqlConnection(o);
  return (good) => db.query(
    'INSERT INTO ?? (id, city, price_cents, listed_on, bedrooms) VALUES ? ON DUPLICATE KEY UPDATE ' +
      'city = VALUES(city), price_cents = VALUES(price_cents), listed_on = VALUES(listed_on), bedrooms = VALUES(bedrooms)',
    [o.table, good.map((l) => [l.id, l.city, l.price_cents, l.listed_on, l.bedrooms])]);
}

let written = 0, deadLettered = 0;
const worker = new Worker(o.name, async (job) => {
  const good = [], bad = [];
  for (const row of job.data.rows) {
    const { listing, error } = normalise(row);
    if (listing) good.push(listing);
    else bad.push(JSON.stringify({ id: row.id, error, row }));
  }
  if (good.length > 0) await write(good);
  if (bad.length > 0) await failed.rpush(o.failed, ...bad);
  written += good.length;
  deadLettered += bad.length;
}, { connection: redis(o), concurrency: 1 });
worker.on('failed', (job, e) => console.error(`worker ${process.pid}: job ${job.id} attempt ${job.attemptsMade}: ${e.message}`));
worker.on('error', (e) => console.error(`worker ${process.pid}: ${e.message}`));  // unheard, it would end the process

process.once('SIGTERM', async () => {
  await worker.close();
  console.log(`worker ${process.pid}: ${written} written, ${deadLettered} dead-lettered; peak RSS ${peakRssMb()} MB`);
  process.exit(0);
});
