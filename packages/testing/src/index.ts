export * from './nats-server.ts';
export * from './wait.ts';
export { startNatsCluster, type NatsCluster, type ClusterNode } from './nats-cluster.ts';
export { checkLog, type LogReport } from './invariants.ts';
export { steadyLoad, type LoadFigures, type SteadyLoadOptions } from './load.ts';
