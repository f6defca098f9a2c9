/** The package's public entry: every export listed by name (no `export *`). */
export {
  freePort,
  startNatsServer,
  type NatsServer,
  type StartOptions,
} from './nats-server.ts';
export {
  waitFor,
} from './wait.ts';
export { DeciderSpecification, type Decider, type Then } from './decider.ts';
export { makeTestPki, type TestPki } from './tls.ts';
export { startNatsCluster, type NatsCluster, type ClusterNode } from './nats-cluster.ts';
export { checkLog, type LogReport } from './invariants.ts';
export { steadyLoad, type LoadFigures, type SteadyLoadOptions } from './load.ts';
export { createTestDatabase, type TestDatabase } from './postgres.ts';
