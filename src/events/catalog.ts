/**
 * The catalog of domain events. Each module declares the events it owns by merging its payload
 * types into `EventPayloads` (declaration merging), so adding a kind is one small change where
 * the event originates:
 *
 *   declare module '../../events/catalog.js' {
 *     interface EventPayloads { 'receipt.recorded': { modelId: string; receiptId: string } }
 *   }
 */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EventPayloads {}

export type EventKind = keyof EventPayloads & string;

/** An event as stored in the outbox and handed to subscribers. */
export interface StoredEvent<K extends EventKind = EventKind> {
  /** Monotonic outbox id; Socket.IO clients see it as `eventId`. */
  id: number;
  kind: K;
  payload: EventPayloads[K];
  /** Socket.IO rooms this event belongs to (`user:<id>`, `model:<id>`, `market:<id>`). */
  rooms: string[];
  createdAt: number;
}
