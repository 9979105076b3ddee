"""The mirrored strategy on two logical CPU devices gives the default strategy's step.

Logical devices must be set before TensorFlow initialises its devices, so this runs in a
fresh Python process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import os
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import keras
from nstlab.imaging.data import load_sample
from nstlab.fast.network import build_transformer
from nstlab.fast.strategy import make_strategy
from nstlab.fast.training import make_train_step
from nstlab.engine.losses import Objective
from nstlab.run.transfer import seed_everything

photo = load_sample("grace_hopper", max_size=64)
batch = np.stack([photo[:32, :32], photo[32:, :32], photo[:32, 20:52], photo[10:42, 5:37]])
style = load_sample("starry_night", max_size=64)


def one_step(name, weights=None):
    strategy = make_strategy(name)
    with strategy.scope():
        seed_everything(0)
        model = build_transformer(width=4, residual_blocks=1)
        if weights is not None:
            model.set_weights(weights)
        start = model.get_weights()
        objective = Objective(None, style, batch_content=True)
        # Plain SGD: the update is the gradient itself, so this compares the gradients
        # (Adam would blow up the rounding noise of the biases before instance norm, whose
        # true gradient is zero, to full-size steps of random sign).
        optimizer = keras.optimizers.SGD(1e-12)
        optimizer.build(model.trainable_variables)
    step = make_train_step(model, objective, optimizer, strategy)
    data = tf.data.Dataset.from_tensor_slices(batch).batch(4)
    total, parts = step(next(iter(strategy.experimental_distribute_dataset(data))))
    total2, _ = step(next(iter(strategy.experimental_distribute_dataset(data))))
    return (strategy.num_replicas_in_sync, float(total), float(total2),
            {k: float(v) for k, v in parts.items()}, start, model.get_weights())


replicas_a, loss_a, second_a, parts_a, start, after_a = one_step("default")
replicas_b, loss_b, second_b, parts_b, _, after_b = one_step("mirrored", start)
change = max(float(np.abs(a - s).max()) for a, s in zip(after_a, start))
gap = max(float(np.abs(a - b).max()) for a, b in zip(after_a, after_b))
print(json.dumps({"replicas": [replicas_a, replicas_b], "loss": [loss_a, loss_b],
                  "second": [second_a, second_b], "parts": [parts_a, parts_b],
                  "weight_change": change, "weight_gap": gap}))
"""


def test_mirrored_on_two_cpu_devices_matches_the_default_strategy():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == [1, 2]
    default, mirrored = result["loss"]
    assert abs(default - mirrored) <= 1e-4 * abs(default)
    for name, value in result["parts"][0].items():
        assert abs(value - result["parts"][1][name]) <= 1e-4 * abs(value) + 1e-6, name
    # The gradients were summed over both devices: the weights after the step are the same.
    assert result["weight_gap"] < 1e-3 * result["weight_change"] + 1e-7
    second_default, second_mirrored = result["second"]
    assert abs(second_default - second_mirrored) <= 1e-3 * abs(second_default)


def test_multi_worker_without_a_cluster_runs_alone():
    """Without TF_CONFIG the multi-worker strategy is a cluster of one (fresh process: it must
    be created before other TensorFlow work)."""
    script = ("from nstlab.fast.strategy import make_strategy\n"
              "print(make_strategy('multi-worker').num_replicas_in_sync)\n")
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "1"
