export { TypeCatalog, type CatalogChange, type CatalogLogger, type TypeEntry } from './catalog.ts';
export { Liveness, type WorkerSeen } from './liveness.ts';
