/** The package's public entry: every export listed by name (no `export *`). */
export {
  SecretBox,
  loadSecretKey,
  secretHint,
} from './box.ts';
export {
  SecretStore,
} from './store.ts';
