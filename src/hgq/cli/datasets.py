"""Data sets the commands train on, bundled with scikit-learn (no download)."""

import numpy as np


def digits(seed=0, test_size=0.25):
    """scikit-learn's digits (8x8 images, 10 classes) as 64 pixels scaled to [0, 1], split into train and test
    (stratified) with ``seed``.

    Returns ``x_train, x_test, y_train, y_test``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
