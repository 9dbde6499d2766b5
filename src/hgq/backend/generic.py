"""Any backend without a module of its own: one replica, and float64 that is float64."""


def min_over_replicas(x):
    return x


def max_over_replicas(x):
    return x


def float64_is_exact():
    return True
