// The MongoDB-wire-compatible test server (CongoDB, in memory) that scripts/services.sh starts.
// It prints "ready <uri>" once listening and exits cleanly on SIGTERM/SIGINT.
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';

const port = Number(process.argv[2] || 27017);
const server = new CongoServer({ port, host: '127.0.0.1', storage: 'memory' });
await server.start();
console.log(`ready ${server.getConnectionUri()}`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
