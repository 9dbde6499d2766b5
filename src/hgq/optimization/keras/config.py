"""What the Keras optimization loop supports: ranking metrics, the default working directory. Which layers it
optimizes is their specs' (``hgq.specs``): a layer whose spec gives it a kernel."""

#: Ranking metrics of weight groups: ``l1``/``l2`` norms of the weights; ``oracle`` ``|dL/dw · w|``
#: (Molchanov et al. 2016); ``saliency`` ``(d²L/dw²) · w²`` (LeCun et al. 1989, Optimal Brain Damage).
SUPPORTED_METRICS = ("l1", "l2", "oracle", "saliency")

#: Where the regularization search stores its trials.
TMP_DIRECTORY = "hls4ml-optimization-keras"
