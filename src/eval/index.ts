// eval: retrieval and clustering metrics over embeddings
export { knn } from './knn.js';
export type { KnnMetric, KnnOptions, KnnResult } from './knn.js';
export { accuracy, accuracyPerClass, retrievalMetrics, planNeighbours, DEFAULT_ACCURACY_METRICS, ACCURACY_METRICS } from './retrieval.js';
export type { AccuracyOptions, AccuracyMetricName, RetrievalMetricName, PerClassAccuracy, RetrievalMetricsOptions } from './retrieval.js';
export type { EvalLabels, LabelValue, LabelComparison } from './labels.js';
export { kmeans } from './kmeans.js';
export type { KMeansOptions, KMeansResult } from './kmeans.js';
export { nmi, ami, mutualInfo, expectedMutualInfo, logGamma, clusteringScores } from './clustering.js';
export type { ClusterLabels, ClusteringScoresOptions } from './clustering.js';
export type { EmbeddingsLike } from './embeddings.js';
export { calibrate, calibrationFromPairs, scoresToDistances } from './calibration.js';
export type { CalibrateOptions, CalibrationResult, CalibrationPoint, CalibrationMetric } from './calibration.js';
export { saveThresholds, loadThresholds, pickThreshold, ThresholdError, THRESHOLDS_FILE } from './thresholds.js';
export type { SavedThresholds, ThresholdRequest, PickedThreshold } from './thresholds.js';
export { match } from './matching.js';
export type { MatchOptions, MatchResult, MatchWithOptions } from './matching.js';
