export { KvLease, type KvLeaseOptions, type LeaseLogger } from './lease.ts';
