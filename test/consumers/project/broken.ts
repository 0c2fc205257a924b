// Deliberately wrong: the consumer matrix proves with it that a type error is reported.
import { Manager } from 'plugwire';

const manager = new Manager<{ text: string }, string>();
export const wrong: number = manager.readiness();
