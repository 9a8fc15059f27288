/** Events this module emits (rooms `model:<id>` and `user:<ownerId>`), declared into the catalog. */
import type { ModelHealth } from '../models/schema.js';
import type { AnchorRecord } from './anchors.js';

export interface ReceiptRecordedEvent {
  modelId: string;
  ownerId: string;
  receiptId: string;
  seq: number;
  /** ISO-8601. */
  observedAt: string;
  driftPercentage: number | null;
  driftDetected: boolean;
  health: 'healthy' | 'warning' | 'critical';
}

export interface DriftDetectedEvent {
  modelId: string;
  ownerId: string;
  modelName: string;
  receiptId: string;
  driftPercentage: number | null;
  thresholdPercent: number;
  severity: 'warning' | 'critical';
  driftedFeatures: string[];
}

export interface ModelHealthEvent {
  modelId: string;
  ownerId: string;
  modelName: string;
  previous: ModelHealth;
  health: ModelHealth;
  reason: string;
}

export type AnchorCreatedEvent = Omit<AnchorRecord, 'id'> & { anchorId: string };

declare module '../../events/catalog.js' {
  interface EventPayloads {
    'receipt.recorded': ReceiptRecordedEvent;
    'drift.detected': DriftDetectedEvent;
    'model.health': ModelHealthEvent;
    'anchor.created': AnchorCreatedEvent;
  }
}

export const modelRooms = (modelId: string, ownerId: string): string[] => [`model:${modelId}`, `user:${ownerId}`];
