// The seed's producer: the feed table paged by id (keyset, 100 rows a page), one BullMQ job per
// page, waiting while more than --max-depth jobs wait (the memory guard).
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { mysqlConnection, options, peakRssMb, redis } from './common.mjs';

const o = options();
const db = await mysqlConnection(o);
const connection = redis(o);
const queue = new Queue(o.name, { connection });
const started = Date.now();
let jobs = 0;
for (let after = 0; ;) {
  const [rows] = await db.query('SELECT id, city, price, listed_on, bedrooms FROM ?? WHERE id > ? ORDER BY id LIMIT 100',
                                [o.feed, after]);
  if (rows.length === 0) break;
  after = rows.at(-1).id;
  // Job data is JSON: the city column holds bytes, sent as base64.
  const data = { rows: rows.map((r) => ({ ...r, city: r.city === null ? null : r.city.toString('base64') })) };
  await queue.add('listings', data, { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true });
  if (++jobs % 10 === 0) {
    while ((await queue.getWaitingCount()) > o.maxDepth) await sleep(100);
  }
}
console.log(`producer: ${jobs} jobs queued in ${((Date.now() - started) / 1000).toFixed(1)} s; peak RSS ${peakRssMb()} MB`);
await queue.close();
connection.disconnect();  // BullMQ leaves a connection it was given open
await db.end();
