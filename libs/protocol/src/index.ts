export * from './errors';
export * from './events';
export * from './limits';
export * from './validate';
export * from './version';
