// go-plugins conformance: plugins written in Go against go-plugins' documented wire types
// (HTTPPluginRequest[T]/HTTPPluginResponse[T], UnixSocketMessage/UnixSocketResponse, copied in
// test/conformance/go/wire.go), Go standard library only, built by this test.
import { join } from 'node:path';
import { buildGoPlugin, conformanceSuite, go, startServer } from './support.js';
import { tempDir } from '../support/tmp.js';

let built: Promise<string> | undefined;
/** One build per run, shared by the suites below (and reused across runs, see buildGoPlugin). */
const binary = (): Promise<string> => (built ??= buildGoPlugin());

conformanceSuite('a go-plugins HTTP plugin (Go)', {
  tools: [go],
  deadline: 'go-duration',
  seesCancel: false,
  async setup() {
    const server = await startServer(await binary(), ['http'], process.cwd());
    return {
      plugin: { transport: 'http', endpoint: `http://127.0.0.1:${server.address}/` },
      stop: server.close,
    };
  },
});

conformanceSuite('a go-plugins Unix socket plugin (Go)', {
  tools: [go],
  deadline: 'ms',
  seesCancel: true,
  async setup() {
    const tmp = tempDir('plugwire-go-unix-');
    const server = await startServer(await binary(), ['unix', join(tmp.dir, 'go.sock')], tmp.dir);
    return {
      plugin: { transport: 'unix', socketPath: server.address },
      stop: async () => {
        await server.close();
        tmp.remove();
      },
    };
  },
});

conformanceSuite('an exec plugin speaking go-plugins Unix messages (Go)', {
  tools: [go],
  deadline: 'ms',
  seesCancel: true,
  async setup() {
    return { plugin: { transport: 'exec', executable: await binary(), args: ['exec'] } };
  },
});
