import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcTarget, grpcTargetProblem } from './target.js';

test('host:port endpoints are used as they are', () => {
  assert.equal(grpcTarget({ endpoint: '127.0.0.1:50051' }), '127.0.0.1:50051');
  assert.equal(grpcTarget({ endpoint: 'plugins.internal:443' }), 'plugins.internal:443');
  assert.equal(grpcTarget({ endpoint: '[::1]:50051' }), '[::1]:50051');
});

test('URL endpoints lose their scheme, and http(s) ones get their default port back', () => {
  assert.equal(grpcTarget({ endpoint: 'grpc://127.0.0.1:50051' }), '127.0.0.1:50051');
  assert.equal(grpcTarget({ endpoint: 'grpcs://svc:8443/' }), 'svc:8443');
  assert.equal(grpcTarget({ endpoint: 'https://svc:443' }), 'svc:443');
  assert.equal(grpcTarget({ endpoint: 'grpc://[::1]:7000' }), '[::1]:7000');
});

test('unix sockets come from unix: targets, absolute paths or socketPath', () => {
  assert.equal(grpcTarget({ endpoint: 'unix:/tmp/p.sock' }), 'unix:/tmp/p.sock');
  assert.equal(grpcTarget({ endpoint: 'unix:///tmp/p.sock' }), 'unix:///tmp/p.sock');
  assert.equal(grpcTarget({ endpoint: '/tmp/p.sock' }), 'unix:/tmp/p.sock');
  assert.equal(
    grpcTarget({ socketPath: '/tmp/p.sock', endpoint: 'ignored:1' }),
    'unix:/tmp/p.sock',
  );
});

test('gRPC name-resolver targets pass through', () => {
  assert.equal(grpcTarget({ endpoint: 'dns:///svc:50051' }), 'dns:///svc:50051');
  assert.equal(
    grpcTarget({ endpoint: 'ipv4:10.0.0.1:1,10.0.0.2:1' }),
    'ipv4:10.0.0.1:1,10.0.0.2:1',
  );
});

test('endpoints without a port, with a path or with credentials are refused with the reason', () => {
  assert.match(grpcTargetProblem({ endpoint: 'grpc://svc' }) ?? '', /needs a port/);
  assert.match(grpcTargetProblem({ endpoint: 'svc' }) ?? '', /not a gRPC endpoint/);
  assert.match(grpcTargetProblem({ endpoint: 'grpc://svc:1/api' }) ?? '', /no path/);
  assert.match(grpcTargetProblem({ endpoint: 'grpc://u:p@svc:1' }) ?? '', /credentials/);
  assert.match(grpcTargetProblem({}) ?? '', /is required/);
  assert.equal(grpcTargetProblem({ endpoint: 'svc:1' }), undefined);
});
