// Set equality, as listings_system --role check: every good listing in the sink once, every bad
// one in the failed-rows list once (so nothing in both). Also runs alone: node check.mjs <options>.
import { pathToFileURL } from 'node:url';
import { mongo, mysqlConnection, options, redis } from './common.mjs';
import { defectOf } from './listings.mjs';

export async function check(o) {
  const bad = new Uint8Array(o.rows + 1);
  let badCount = 0;
  for (let id = 1; id <= o.rows; id++) {
    if (defectOf(id, o.rows) !== 'none') bad[id] = 1, badCount++;
  }
  const goodCount = o.rows - badCount;
  const known = (id) => Number.isInteger(id) && id >= 1 && id <= o.rows;

  // The sink: MongoDB id by id; the MySQL table by SQL over the same rule.
  const inSink = new Uint8Array(o.rows + 1);
  let sinkRows = 0, sinkUnexpected = 0, sinkTwice = 0;
  if (o.sink === 'mongodb') {
    const client = mongo(o);
    const documents = client.db(o.name).collection('listings').find({}, { projection: { _id: 0, id: 1 }, batchSize: 5000 });
    for await (const { id } of documents) {
      sinkRows++;
      if (!known(id) || bad[id]) sinkUnexpected++;
      else if (inSink[id]++ > 0) sinkTwice++;
    }
    await client.close();
  } else {
    const db = await mysqlConnection(o);
    const badSql = `id < 1 OR id > ${o.rows} OR id = ${Math.trunc(o.rows / 2)} OR id % 331 = 0 OR id % 257 = 0 ` +
      'OR id % 199 = 0 OR id % 503 = 0';
    const [[r]] = await db.query(`SELECT COUNT(*) AS total, COUNT(DISTINCT id) AS dist, ` +
      `COALESCE(SUM(CASE WHEN ${badSql} THEN 1 ELSE 0 END), 0) AS unexpected FROM ??`, [o.table]);
    await db.end();
    [sinkRows, sinkUnexpected, sinkTwice] = [Number(r.total), Number(r.unexpected), Number(r.total) - Number(r.dist)];
  }
  const sinkOk = sinkRows === goodCount && sinkUnexpected === 0 && sinkTwice === 0;

  // The failed-rows list: one entry per bad listing, none for a good one.
  const r = redis(o);
  const inDlq = new Uint8Array(o.rows + 1);
  let entries = 0, dlqUnexpected = 0, dlqTwice = 0;
  for (let start = 0; ; start += 1000) {
    const page = await r.lrange(o.failed, start, start + 999);
    if (page.length === 0) break;
    for (const entry of page) {
      entries++;
      const { id } = JSON.parse(entry);
      if (!known(id) || !bad[id]) { dlqUnexpected++; continue; }
      if (inDlq[id]++ > 0) dlqTwice++;
    }
  }
  r.disconnect();
  const dlqOk = entries === badCount && dlqUnexpected === 0 && dlqTwice === 0;
  console.log(`check: sink (${o.sink}) ${sinkRows} listings, expected ${goodCount} good, ${sinkUnexpected} bad or ` +
    `unknown, ${sinkTwice} twice -> ${sinkOk ? 'ok' : 'WRONG'}; DLQ ${entries} entries, expected ${badCount} bad, ` +
    `${dlqUnexpected} good or unknown, ${dlqTwice} twice -> ${dlqOk ? 'ok' : 'WRONG'}`);
  return sinkOk && dlqOk;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exit((await check(options())) ? 0 : 1);
