// The options every script of the seed stack takes (run.mjs passes its own to the producer and
// the workers it starts), the names they derive, and the clients.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';

export const usage = `usage: node run.mjs --feed TABLE --rows N [options]
  --feed TABLE    the MySQL feed table (listings_system --role load --name NAME fills NAME_feed)
  --rows N        listings in the feed (for the check)
  --name NAME     the BullMQ queue NAME, the failed-rows list NAME:failed, the MongoDB database
                  NAME (collection listings) or the MySQL table NAME_listings (seed)
  --sink S        mongodb (default) or mysql
  --workers N     worker processes (4), each a BullMQ Worker with concurrency 1
  --max-depth N   the producer waits while more jobs wait (2000)
  --fresh         empty the queue, the failed-rows list and the sink first
Servers: $PIPELINE_MYSQL_TEST_URI, $PIPELINE_REDIS_TEST_URI, $PIPELINE_MONGODB_TEST_URI.`;

export function options() {
  const { values } = parseArgs({
    options: {
      feed: { type: 'string' },
      rows: { type: 'string' },
      name: { type: 'string', default: 'seed' },
      sink: { type: 'string', default: 'mongodb' },
      workers: { type: 'string', default: '4' },
      'max-depth': { type: 'string', default: '2000' },
      fresh: { type: 'boolean', default: false },
    },
  });
  const o = {
    feed: values.feed,
    rows: Number(values.rows),
    name: values.name,
    sink: values.sink,
    workers: Number(values.workers),
    maxDepth: Number(values['max-depth']),
    fresh: values.fresh,
    mysql: process.env.PIPELINE_MYSQL_TEST_URI,
    redis: process.env.PIPELINE_REDIS_TEST_URI,
    mongodb: process.env.PIPELINE_MONGODB_TEST_URI,
  };
  const valid = /^[A-Za-z_][A-Za-z0-9_]*$/.test(o.feed ?? '') && /^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name) &&
    Number.isInteger(o.rows) && o.rows > 0 && Number.isInteger(o.workers) && o.workers > 0 &&
    ['mongodb', 'mysql'].includes(o.sink) && o.mysql && o.redis && (o.sink !== 'mongodb' || o.mongodb);
  if (!valid) {
    console.error(usage);
    process.exit(2);
  }
  return { ...o, failed: `${o.name}:failed`, table: `${o.name}_listings` };
}

// BullMQ wants maxRetriesPerRequest null on the connections it blocks on.
export const redis = (o) => new Redis(o.redis, { maxRetriesPerRequest: null });
export const mysqlConnection = (o) => mysql.createConnection(o.mysql);
// The test server (CongoDB) does not stream hello replies (moreToCome): with the driver's
// default monitoring ("auto") it ends the stream, and the driver clears its pool, failing the
// writes in flight. Polling is what a driver does on servers without streaming.
export const mongo = (o) => new MongoClient(o.mongodb, { serverMonitoringMode: 'poll' });

export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
