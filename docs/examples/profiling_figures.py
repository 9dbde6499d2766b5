"""Make the example figures of docs/profiling.md: ``hgq.profiling.numerical`` in its three styles.

Trains a small H-model on scikit-learn's digits (shipped with scikit-learn, no download), calibrates it, exports
the proxy, converts it with hls4ml (no compilation) and saves, per style, the weights figure (with the bit-width
panel) above the activations figure, both with the grey boxes of the ModelGraph's types:

    .venv/bin/python docs/examples/profiling_figures.py [--out docs/images] [--epochs 20]
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def build_and_train(epochs):
    import keras
    from sklearn.datasets import load_digits

    import hgq
    from hgq.layers import HDense, HDenseBatchNorm, HQuantize

    keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    paq_conf = {"init_bw": 6}
    inp = keras.Input((64,), name="pixels")
    h = HQuantize(paq_conf=paq_conf, name="inp_q")(inp)
    h = HDense(32, activation="relu", beta=1e-5, paq_conf=paq_conf, name="dense1")(h)
    h = HDenseBatchNorm(16, activation="relu", beta=1e-5, paq_conf=paq_conf, name="dense2_bn")(h)
    out = HDense(10, beta=1e-5, paq_conf=paq_conf, name="logits")(h)
    model = keras.Model(inp, out, name="digits")
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def stacked_png(figures, path, dpi):
    """Render ``figures`` (no pyplot) and save them one above the other as one PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    images = []
    for fig in figures:
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        images.append(np.asarray(canvas.buffer_rgba()))
    width = max(im.shape[1] for im in images)
    padded = [np.pad(im, ((0, 0), (0, width - im.shape[1]), (0, 0)), constant_values=255) for im in images]
    imsave(path, np.vstack(padded)[..., :3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "images"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()

    import hgq
    from hgq.profiling import numerical
    from hgq.proxy import convert_to_hls4ml

    model, x = build_and_train(args.epochs)
    proxy = hgq.to_proxy_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        hls_model = convert_to_hls4ml(proxy, os.path.join(tmp, "prj"))
        os.makedirs(args.out, exist_ok=True)
        for plot in ("boxplot", "histogram", "violinplot"):
            weights, activations = numerical(model=model, hls_model=hls_model, X=x, plot=plot)
            path = os.path.join(args.out, f"profiling_{plot}.png")
            stacked_png([weights, activations], path, args.dpi)
            print(f"{path}: {os.path.getsize(path) / 1024:.0f} kB")


if __name__ == "__main__":
    main()
