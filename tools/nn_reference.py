#!/usr/bin/env python3
"""Reference values of the activation functions of kernels/nn.hpp and their derivatives, from
numpy/scipy definitions (torch semantics where named: Softplus threshold 20, exact-erf GELU;
deepmd-kit's tanh-approximated GELU and threshold-free softplus). Writes
tests/data/nn/activations.json; run from the repository root:  python3 tools/nn_reference.py
"""
import json
import math
import os

import numpy as np
import scipy
from scipy.special import erf, expit

X = np.concatenate([np.linspace(-30.0, 30.0, 61), np.linspace(-3.0, 3.0, 49),
                    [-1e-3, 1e-3, 5.999, 6.001, 19.99, 20.01, 25.0, -25.0]])
K = math.sqrt(2.0 / math.pi)


def softplus_log(x):  # log(1 + e^x) without threshold (logaddexp is exact-rounded)
    return np.logaddexp(0.0, x)


def softplus_torch(x):
    return np.where(x > 20.0, x, softplus_log(x))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(K * (x + 0.044715 * x ** 3)))


def d_gelu_tanh(x):
    t = np.tanh(K * (x + 0.044715 * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K * (1.0 + 3.0 * 0.044715 * x * x)


FUNCS = {
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "gelu_tanh": (gelu_tanh, d_gelu_tanh),
    "gelu_erf": (lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
                 lambda x: 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
                 + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "relu6": (lambda x: np.clip(x, 0.0, 6.0), lambda x: ((x > 0) & (x < 6)).astype(float)),
    "softplus_log": (softplus_log, expit),
    "softplus": (softplus_torch, lambda x: np.where(x > 20.0, 1.0, expit(x))),
    "shifted_softplus": (lambda x: softplus_torch(x) - math.log(2.0),
                         lambda x: np.where(x > 20.0, 1.0, expit(x))),
    "sigmoid": (expit, lambda x: expit(x) * (1.0 - expit(x))),
    "silu": (lambda x: x * expit(x), lambda x: expit(x) + x * expit(x) * (1.0 - expit(x))),
}


def main():
    out = {"script": "tools/nn_reference.py", "numpy": np.__version__, "scipy": scipy.__version__,
           "x": X.tolist(), "value": {}, "derivative": {}}
    for name, (f, df) in FUNCS.items():
        out["value"][name] = [float(v) for v in f(X)]
        out["derivative"][name] = [float(v) for v in df(X)]
    path = os.path.join("tests", "data", "nn", "activations.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
