export * from './box.ts';
export * from './store.ts';
