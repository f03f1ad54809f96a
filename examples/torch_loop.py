"""A Keras-style kbridge model trained by an ordinary PyTorch training loop.

The model is defined with kbridge layers, turned into a native `nn.Module` with
`to_module`, and trained with `torch.optim.AdamW` over a `torch.utils.data.DataLoader`
of scikit-learn's handwritten digits, with the forward pass under
`torch.autocast("cpu", dtype=torch.bfloat16)`. The module's `state_dict()` is saved with
`torch.save` and loaded into a second, separately built model, whose predictions must
equal the first's.

    python examples/torch_loop.py                                          # one process
    python -m torch.distributed.run --nproc_per_node=2 examples/torch_loop.py   # DDP (gloo)

Under `torchrun` (`WORLD_SIZE` set) it initialises a gloo process group, shards the data
with a `DistributedSampler` and wraps the module in `DistributedDataParallel`.
"""

import os
import shutil
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import kbridge as keras
from kbridge import layers
from kbridge.adapters.torch import to_module

EPOCHS = 4


def build_model():
    with keras.backend.use("torch"):
        inputs = keras.Input(shape=(64,), name="pixels")
        x = layers.Rescaling(1.0 / 16.0)(inputs)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.Dropout(0.1, seed=3)(x)
        outputs = layers.Dense(10, name="logits")(x)
        return keras.Model(inputs, outputs, name="digits")


def main():
    start = time.time()
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world_size > 1
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    torch.set_num_threads(1)  # tiny matmuls: threads cost more than they give (and keep CI calm)
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data.astype("float32"), digits.target.astype("int64"), test_size=0.2, random_state=0
    )
    train_set = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    sampler = DistributedSampler(train_set, shuffle=True, seed=0) if distributed else None
    loader = DataLoader(train_set, batch_size=64, shuffle=sampler is None, sampler=sampler)

    model = build_model()
    module = to_module(model)  # an nn.Module whose parameters are the model's variables
    net = torch.nn.parallel.DistributedDataParallel(module) if distributed else module
    optimizer = torch.optim.AdamW(net.parameters(), lr=5e-3, weight_decay=1e-4)

    epoch_losses = []
    for epoch in range(EPOCHS):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        total, count = 0.0, 0
        for features, labels in loader:
            optimizer.zero_grad()
            # kbridge ops are plain torch ops, so autocast applies: the Dense matmuls run in bfloat16.
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = net(features)
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(labels)
            count += len(labels)
        epoch_losses.append(total / count)
        if rank == 0:
            print(f"epoch {epoch + 1}: loss {epoch_losses[-1]:.4f}")
    assert epoch_losses[-1] < 0.5 * epoch_losses[0], epoch_losses

    module.eval()
    x_eval = torch.from_numpy(x_test)
    with torch.no_grad():
        predictions = module(x_eval)
    accuracy = float((predictions.argmax(-1).numpy() == y_test).mean())
    assert accuracy > 0.85, accuracy

    # Checkpoint with torch.save (rank 0 writes), reload into a separately built model.
    directory = [tempfile.mkdtemp(prefix="kbridge_torch_loop_") if rank == 0 else None]
    if distributed:
        dist.broadcast_object_list(directory, src=0)
    path = os.path.join(directory[0], "digits.pt")
    if rank == 0:
        torch.save(module.state_dict(), path)
    if distributed:
        dist.barrier()
    restored = to_module(build_model())
    restored.load_state_dict(torch.load(path))
    restored.eval()
    with torch.no_grad():
        reloaded = restored(x_eval)
    assert torch.equal(reloaded, predictions), (reloaded - predictions).abs().max()
    # The kbridge model itself holds the loaded weights too (the module shares them).
    np.testing.assert_array_equal(
        np.asarray(restored.model.predict(x_test, verbose=0)), np.asarray(model.predict(x_test, verbose=0))
    )
    if distributed:
        dist.barrier()
    if rank == 0:
        shutil.rmtree(directory[0], ignore_errors=True)
        print(
            f"world_size={world_size} test accuracy {accuracy:.3f}, reloaded predictions equal, "
            f"{time.time() - start:.1f} s"
        )
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
