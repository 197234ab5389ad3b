/** The compiled decision engine: pure, no I/O. */
export * from './address.js';
export * from './engine.js';
export * from './packet.js';
export * from './sync.js';
export { compareRules, decisionOrder } from './table.js';
