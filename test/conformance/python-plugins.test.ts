// Python conformance: plugins written from docs/protocol only (standard library for HTTP, Unix
// and exec; Debian's python3-grpcio for gRPC, with stubs generated here from proto/).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  PYTHON,
  PYTHON_DIR,
  ROOT,
  conformanceSuite,
  python,
  pythonGrpc,
  startServer,
} from './support.js';
import { tempDir } from '../support/tmp.js';

// -B: no __pycache__ in the source tree.
const script = (name: string): string[] => ['-B', join(PYTHON_DIR, name)];

conformanceSuite('a Python HTTP plugin (standard library)', {
  tools: [python],
  deadline: 'go-duration',
  seesCancel: false,
  async setup() {
    const server = await startServer(PYTHON, script('http_plugin.py'), PYTHON_DIR);
    return {
      plugin: { transport: 'http', endpoint: `http://127.0.0.1:${server.address}/` },
      stop: server.close,
    };
  },
});

conformanceSuite('a Python Unix socket plugin (standard library)', {
  tools: [python],
  deadline: 'ms',
  seesCancel: true,
  async setup() {
    const tmp = tempDir('plugwire-py-unix-');
    const server = await startServer(
      PYTHON,
      [...script('unix_plugin.py'), join(tmp.dir, 'py.sock')],
      PYTHON_DIR,
    );
    return {
      plugin: { transport: 'unix', socketPath: server.address },
      stop: async () => {
        await server.close();
        tmp.remove();
      },
    };
  },
});

conformanceSuite('a Python exec plugin (standard library)', {
  tools: [python],
  deadline: 'ms',
  seesCancel: true,
  async setup() {
    return {
      plugin: {
        transport: 'exec',
        executable: PYTHON,
        args: script('exec_plugin.py'),
        workDir: PYTHON_DIR,
      },
    };
  },
});

conformanceSuite('a Python gRPC plugin (python3-grpcio, stubs from proto/)', {
  tools: [python, pythonGrpc],
  deadline: 'grpc',
  seesCancel: true,
  async setup() {
    const stubs = tempDir('plugwire-py-grpc-');
    const proto = join(ROOT, 'proto');
    const protoc = (include: string, file: string) =>
      promisify(execFile)(PYTHON, [
        '-m',
        'grpc_tools.protoc',
        `-I${include}`,
        `--python_out=${stubs.dir}`,
        `--grpc_python_out=${stubs.dir}`,
        join(include, file),
      ]);
    await protoc(proto, 'plugin.proto');
    // From its own folder, so the module is health_pb2 and does not shadow the grpc package.
    await protoc(join(proto, 'grpc/health/v1'), 'health.proto');
    const server = await startServer(PYTHON, [...script('grpc_plugin.py'), stubs.dir], PYTHON_DIR);
    return {
      plugin: { transport: 'grpc', endpoint: `127.0.0.1:${server.address}` },
      stop: async () => {
        await server.close();
        stubs.remove();
      },
    };
  },
});
