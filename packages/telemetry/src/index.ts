export * from './propagation.ts';
export * from './sdk.ts';
