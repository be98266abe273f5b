// The MongoDB-wire-compatible test server (CongoDB, in memory) that scripts/services.sh starts.
// It prints "ready <uri>" once listening and exits cleanly on SIGTERM/SIGINT.
//   node server.mjs [port] [data file]
// With a data file, what the server holds survives a clean restart, as a mongod's data
// directory does: SIGTERM/SIGINT writes it there after the last connection is closed, as
// canonical Extended JSON (every BSON type comes back as it was; CongoDB's own persistence
// writes plain JSON, which turns dates and binaries into strings), and the next start loads
// it. A write whose reply was not sent before the stop may be missing, as after a crash; a
// SIGKILL loses everything since the start.
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { EJSON } from 'bson';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const port = Number(process.argv[2] || 27017);
const dataFile = process.argv[3];
const server = new CongoServer({ port, host: '127.0.0.1', storage: 'memory' });
// The memory storage's maps: database -> collection -> (ObjectId hex -> document), and
// database -> collection -> index specifications.
const storage = server.getStorage();

function load() {
  if (!existsSync(dataFile)) return;
  const data = EJSON.parse(readFileSync(dataFile, 'utf8'), { relaxed: true });  // numbers as the wire gives them
  for (const [db, collections] of Object.entries(data.databases)) {
    storage.databases.set(db, new Map(Object.entries(collections).map(
      ([name, docs]) => [name, new Map(docs.map((doc) => [doc._id.toHexString(), doc]))])));
  }
  for (const [db, collections] of Object.entries(data.indexes)) storage.indexes.set(db, new Map(Object.entries(collections)));
}

function save() {
  const data = { databases: {}, indexes: {} };
  for (const [db, collections] of storage.databases) {
    data.databases[db] = Object.fromEntries([...collections].map(([name, docs]) => [name, [...docs.values()]]));
  }
  for (const [db, collections] of storage.indexes) data.indexes[db] = Object.fromEntries(collections);
  writeFileSync(`${dataFile}.new`, EJSON.stringify(data, { relaxed: false }));
  renameSync(`${dataFile}.new`, dataFile);  // a stop cut short leaves the previous file whole
}

if (dataFile) load();
await server.start();
console.log(`ready ${server.getConnectionUri()}`);
const stop = async () => {
  await server.stop();
  if (dataFile) save();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
