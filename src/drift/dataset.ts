// Dataset-level drift (Evidently get_dataset_drift, §2): the share of drifted features,
// compared with `>=`, so exactly half drifting counts as dataset drift at the default 0.5.

/** Evidently's default drift_share. */
export const DEFAULT_DRIFT_SHARE = 0.5;

export interface DatasetDrift {
  share: number;
  threshold: number;
  drifted: boolean;
  driftedFeatures: number;
  testedFeatures: number;
}

/** Aggregates per-feature results; no features tested means no dataset drift. */
export function evaluateDataset(results: ReadonlyArray<{ drifted: boolean }>, driftShare = DEFAULT_DRIFT_SHARE): DatasetDrift {
  const tested = results.length;
  const drifted = results.filter((r) => r.drifted).length;
  const share = tested === 0 ? 0 : drifted / tested;
  return { share, threshold: driftShare, drifted: tested > 0 && share >= driftShare, driftedFeatures: drifted, testedFeatures: tested };
}
