/**
 * One line and the source paper of every registered component, by family and class name. The
 * catalogue test fails when a registered class has no entry here or an entry names no registered class.
 */

/** The component families of the catalogue. */
export type Family = 'losses' | 'miners' | 'reducers' | 'regularizers' | 'distances' | 'samplers';

/** What the components page says about one class. */
export interface ComponentInfo {
  /** One line: what it computes or does. */
  summary: string;
  /** The paper it follows (authors year, title, venue), or `null` for library utilities. */
  paper: string | null;
}

const P = {
  angular: 'Wang et al. 2017, *Deep Metric Learning with Angular Loss* (ICCV)',
  arcface: 'Deng et al. 2019, *ArcFace: Additive Angular Margin Loss for Deep Face Recognition* (CVPR)',
  fastap: 'Cakir et al. 2019, *Deep Metric Learning to Rank* (CVPR)',
  hermans: 'Hermans, Beyer & Leibe 2017, *In Defense of the Triplet Loss for Person Re-Identification* (arXiv)',
  ms: 'Wang et al. 2019, *Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning* (CVPR)',
  samplingMatters: 'Wu et al. 2017, *Sampling Matters in Deep Embedding Learning* (ICCV)',
  snr: 'Yuan et al. 2019, *Signal-To-Noise Ratio: A Robust Distance Metric for Deep Metric Learning* (CVPR)',
  softTriple: 'Qian et al. 2019, *SoftTriple Loss: Deep Metric Learning Without Triplet Sampling* (ICCV)',
  tuplet: 'Yu & Tao 2019, *Deep Metric Learning with Tuplet Margin Loss* (ICCV)',
};

/** The metadata of every component, by family then class name. */
export const METADATA: Readonly<Record<Family, Readonly<Record<string, ComponentInfo>>>> = {
  losses: {
    AngularLoss: { summary: 'Constrains the angle at the negative of each triplet (anchor and positive against a negative).', paper: P.angular },
    ArcFaceLoss: { summary: 'Softmax over class weights with an additive angular margin on the target class.', paper: P.arcface },
    CircleLoss: { summary: 'Pair similarities re-weighted by their distance from the optimum, with separate positive and negative margins.', paper: 'Sun et al. 2020, *Circle Loss: A Unified Perspective of Pair Similarity Optimization* (CVPR)' },
    ContrastiveLoss: { summary: 'Pulls positive pairs within a margin and pushes negative pairs beyond another.', paper: 'Hadsell, Chopra & LeCun 2006, *Dimensionality Reduction by Learning an Invariant Mapping* (CVPR)' },
    CosFaceLoss: { summary: 'Softmax over class weights with an additive cosine margin on the target class.', paper: 'Wang et al. 2018, *CosFace: Large Margin Cosine Loss for Deep Face Recognition* (CVPR)' },
    CrossBatchMemory: { summary: 'Wraps a loss so that each batch is compared with a queue of embeddings from past batches.', paper: 'Wang et al. 2020, *Cross-Batch Memory for Embedding Learning* (CVPR)' },
    DynamicSoftMarginLoss: { summary: 'Triplet loss whose soft margin follows a running histogram (CDF) of triplet distance differences.', paper: 'Zhang & Rusinkiewicz 2019, *Learning Local Descriptors with a CDF-Based Dynamic Soft Margin* (ICCV)' },
    FastAPLoss: { summary: 'One minus a histogram approximation of average precision, per query.', paper: P.fastap },
    GeneralizedLiftedStructureLoss: { summary: 'Log-sum-exp of positive distances against log-sum-exp of negative margins, per anchor.', paper: P.hermans },
    HistogramLoss: { summary: 'Probability that a negative pair is more similar than a positive pair, from soft histograms.', paper: 'Ustinova & Lempitsky 2016, *Learning Deep Embeddings with Histogram Loss* (NeurIPS)' },
    InstanceLoss: { summary: 'Classifies each embedding against the batch, one class per label (instance-level softmax).', paper: 'Zheng et al. 2020, *Dual-Path Convolutional Image-Text Embeddings with Instance Loss* (ACM TOMM)' },
    IntraPairVarianceLoss: { summary: 'Penalises positive and negative pair similarities that stray from their means.', paper: P.tuplet },
    LargeMarginSoftmaxLoss: { summary: 'Softmax over class weights with a multiplicative angular margin on the target class (L-Softmax).', paper: 'Liu et al. 2016, *Large-Margin Softmax Loss for Convolutional Neural Networks* (ICML)' },
    LiftedStructureLoss: { summary: 'Each positive pair against all negatives of both its members (lifted structured embedding).', paper: 'Oh Song et al. 2016, *Deep Metric Learning via Lifted Structured Feature Embedding* (CVPR)' },
    ManifoldLoss: { summary: 'Random-walk manifold similarities between embeddings and trainable proxies.', paper: 'Aziere & Todorovic 2019, *Ensemble Deep Manifold Similarity Learning Using Hard Proxies* (CVPR)' },
    MarginLoss: { summary: 'Positive and negative pairs on either side of a (learnable) boundary beta, with a margin.', paper: P.samplingMatters },
    MultiSimilarityLoss: { summary: 'Soft weighting of each anchor\'s positive and negative pairs by self- and relative similarity.', paper: P.ms },
    MultipleLosses: { summary: 'Weighted sum of several losses, each with an optional miner of its own.', paper: null },
    NCALoss: { summary: 'Negative log probability that a softmax over the other embeddings picks one of the same class.', paper: 'Goldberger et al. 2004, *Neighbourhood Components Analysis* (NeurIPS)' },
    NPairsLoss: { summary: 'Softmax cross entropy of each anchor\'s positive against the positives of the other classes.', paper: 'Sohn 2016, *Improved Deep Metric Learning with Multi-class N-pair Loss Objective* (NeurIPS)' },
    NTXentLoss: { summary: 'Temperature-scaled cross entropy of each positive pair against the anchor\'s negatives (InfoNCE).', paper: 'Chen et al. 2020, *A Simple Framework for Contrastive Learning of Visual Representations* (ICML)' },
    NormalizedSoftmaxLoss: { summary: 'Temperature-scaled softmax over normalised class weights.', paper: 'Zhai & Wu 2019, *Classification is a Strong Baseline for Deep Metric Learning* (BMVC)' },
    P2SGradLoss: { summary: 'Mean squared error between cosines to the class weights and one-hot labels (P2SGrad gradients).', paper: 'Zhang et al. 2019, *P2SGrad: Refined Gradients for Optimizing Deep Face Models* (CVPR)' },
    PNPLoss: { summary: 'Average-precision surrogate that penalises only negatives ranked before positives.', paper: 'Li et al. 2022, *Rethinking the Optimization of Average Precision: Only Penalizing Negative Instances before Positive Ones is Enough* (AAAI)' },
    ProxyAnchorLoss: { summary: 'Each class proxy as an anchor against all batch embeddings, positives and negatives.', paper: 'Kim et al. 2020, *Proxy Anchor Loss for Deep Metric Learning* (CVPR)' },
    ProxyNCALoss: { summary: 'NCA with one trainable proxy per class as the reference set.', paper: 'Movshovitz-Attias et al. 2017, *No Fuss Distance Metric Learning Using Proxies* (ICCV)' },
    RankedListLoss: { summary: 'Separates each anchor\'s positives from its negatives in a ranked list, with a margin and weighted negatives.', paper: 'Wang et al. 2019, *Ranked List Loss for Deep Metric Learning* (CVPR)' },
    SelfSupervisedLoss: { summary: 'Wraps a loss for two views of the same samples: row i of each view is the positive of row i of the other.', paper: null },
    SignalToNoiseRatioContrastiveLoss: { summary: 'Contrastive loss on the signal-to-noise-ratio distance.', paper: P.snr },
    SoftTripleLoss: { summary: 'Softmax over several centres per class, pooled per class (a smoothed triplet loss without sampling).', paper: P.softTriple },
    SphereFaceLoss: { summary: 'Multiplicative angular margin with the class weights treated as unit vectors (A-Softmax).', paper: 'Liu et al. 2017, *SphereFace: Deep Hypersphere Embedding for Face Recognition* (CVPR)' },
    SubCenterArcFaceLoss: { summary: 'ArcFace with several sub-centres per class (the closest one counts).', paper: 'Deng et al. 2020, *Sub-center ArcFace: Boosting Face Recognition by Large-Scale Noisy Web Faces* (ECCV)' },
    SupConLoss: { summary: 'Supervised contrastive loss: every same-label item is a positive of the anchor.', paper: 'Khosla et al. 2020, *Supervised Contrastive Learning* (NeurIPS)' },
    ThresholdConsistentMarginLoss: { summary: 'Penalises positive pairs below one cosine threshold and negative pairs above another (optionally added to a base loss).', paper: 'Zhang et al. 2023, *Threshold-Consistent Margin Loss for Open-World Deep Metric Learning* (arXiv)' },
    TripletMarginLoss: { summary: 'The anchor-negative distance should exceed the anchor-positive distance by a margin.', paper: 'Schroff, Kalenichenko & Philbin 2015, *FaceNet: A Unified Embedding for Face Recognition and Clustering* (CVPR)' },
    TupletMarginLoss: { summary: 'Each positive pair against its anchor\'s negatives with an angular slack margin, on scaled cosines.', paper: P.tuplet },
    VICRegLoss: { summary: 'Variance, invariance and covariance terms between two views of the same samples.', paper: 'Bardes, Ponce & LeCun 2022, *VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning* (ICLR)' },
  },
  miners: {
    AngularMiner: { summary: 'Triplets whose angle at the negative exceeds a threshold.', paper: P.angular },
    BatchEasyHardMiner: { summary: 'Per anchor, the easiest or hardest (or semi-hard) positive and negative.', paper: 'Xuan, Stylianou & Pless 2020, *Improved Embeddings with Easy Positive Triplet Mining* (WACV)' },
    MaximumLossMiner: { summary: 'Of several random sub-batches, keeps the one with the largest loss.', paper: null },
    BatchHardMiner: { summary: 'Per anchor, the farthest positive and the closest negative.', paper: P.hermans },
    DistanceWeightedMiner: { summary: 'Negatives drawn with weights inverse to the density of distances on the unit sphere.', paper: P.samplingMatters },
    EmbeddingsAlreadyPackagedAsTriplets: { summary: 'Reads the batch as consecutive (anchor, positive, negative) rows.', paper: null },
    HDCMiner: { summary: 'Keeps the hardest fraction of the positive and negative pairs (hard-aware cascaded mining).', paper: 'Yuan, Yang & Zhang 2017, *Hard-Aware Deeply Cascaded Embedding* (ICCV)' },
    MultiSimilarityMiner: { summary: 'Negatives closer than the hardest positive and positives farther than the hardest negative, within epsilon.', paper: P.ms },
    PairMarginMiner: { summary: 'Positive pairs beyond a positive margin and negative pairs within a negative margin.', paper: null },
    TripletMarginMiner: { summary: 'Triplets that violate a margin: all, hard, semi-hard or easy ones.', paper: null },
    UniformHistogramMiner: { summary: 'Pairs drawn evenly across the bins of their distance histogram.', paper: null },
  },
  reducers: {
    AvgNonZeroReducer: { summary: 'Mean of the losses that are above zero.', paper: null },
    ClassWeightedReducer: { summary: 'Mean of the losses, each times the weight of its (anchor\'s) class.', paper: null },
    DivisorReducer: { summary: 'Sum of the losses divided by the divisor the loss supplies.', paper: null },
    DoNothingReducer: { summary: 'Placeholder for configs: per-element losses come from computeLossDict instead.', paper: null },
    MeanReducer: { summary: 'Mean of all losses.', paper: null },
    MultipleReducers: { summary: 'A reducer per sub-loss, results summed.', paper: null },
    PerAnchorReducer: { summary: 'Aggregates pair losses per anchor first, then reduces over anchors.', paper: null },
    SumReducer: { summary: 'Sum of all losses.', paper: null },
    ThresholdReducer: { summary: 'Mean of the losses strictly between a low and a high threshold.', paper: null },
  },
  regularizers: {
    CenterInvariantRegularizer: { summary: 'Keeps the squared norms of the class weights close to their mean.', paper: 'Wu et al. 2017, *Deep Face Recognition with Center Invariant Loss* (ACM MM Workshops)' },
    LpRegularizer: { summary: 'Mean p-norm (to a power) of the rows.', paper: null },
    RegularFaceRegularizer: { summary: 'Mean over classes of the largest cosine to another class weight.', paper: 'Zhao et al. 2019, *RegularFace: Deep Face Recognition via Exclusive Regularization* (CVPR)' },
    SparseCentersRegularizer: { summary: 'Pulls a class\'s centres together so that redundant ones merge (SoftTriple).', paper: P.softTriple },
    ZeroMeanRegularizer: { summary: 'Mean absolute sum of each row (embeddings centred on zero).', paper: P.snr },
  },
  distances: {
    CosineSimilarity: { summary: 'Cosine similarity (dot product of normalised vectors).', paper: null },
    DotProductSimilarity: { summary: 'Dot product, of normalised vectors by default.', paper: null },
    BatchedDistance: { summary: 'Computes any distance tile by tile over large inputs, handing each tile to a callback.', paper: null },
    LpDistance: { summary: 'p-norm distance (optionally raised to a power), of normalised vectors by default.', paper: null },
    SNRDistance: { summary: 'Signal-to-noise ratio: variance of the difference over the variance of the anchor.', paper: P.snr },
  },
  samplers: {
    FixedSetOfTriplets: { summary: 'A fixed set of random triplets drawn once, shuffled each epoch.', paper: null },
    HierarchicalSampler: { summary: 'Batches from pairs of super-labels, several samples per class.', paper: P.fastap },
    BatchPrefetcher: { summary: 'Assembles the next batches (rows, augmented views, labels) in a worker thread while the current step trains.', paper: null },
    MPerClassSampler: { summary: 'Batches of m samples from each of batchSize / m classes.', paper: null },
    TuplesToWeightsSampler: { summary: 'Samples the dataset in proportion to how often a miner uses each sample.', paper: null },
  },
};
