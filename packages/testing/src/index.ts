export * from './nats-server.ts';
export * from './wait.ts';
export * from './tls.ts';
