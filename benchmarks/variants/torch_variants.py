"""PyTorch variants: a plain nn.Module and kbridge's `to_module`, both in the same native loop."""

import torch
import torch.nn.functional as F

from variants import LATENCY, PREDICT, TRAIN
from variants.common import cycle_loop, latency_loop, split_batches


def _loop(module, workload, mode, x, y, x1, compile):
    if compile and workload.no_torch_compile:
        raise NotImplementedError(workload.no_torch_compile)
    net = torch.compile(module, fullgraph=True) if compile else module
    if mode == TRAIN:
        module.train()
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)  # default: foreach implementation

        def step(xb, yb):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xb), yb)
            loss.backward()
            optimizer.step()
            return loss.detach()

        batches = split_batches(x, y, workload.batch_size, torch.from_numpy)
        return cycle_loop(step, batches, lambda loss: loss.item())
    module.eval()
    if mode == PREDICT:

        def forward(xb, yb):
            with torch.no_grad():
                return net(xb)

        batches = split_batches(x, y, workload.batch_size, torch.from_numpy)
        return cycle_loop(forward, batches, lambda out: out.numpy())
    if mode == LATENCY:

        def forward1(xb):
            with torch.no_grad():
                return net(xb)

        return latency_loop(forward1, torch.from_numpy(x1), lambda out: out.numpy())
    raise ValueError(mode)


def native(workload, mode, data, compile=False):
    torch.manual_seed(0)
    module = workload.torch_module()
    layout = workload.torch_layout or (lambda a: a)
    return _loop(module, workload, mode, layout(data["x"]), data["y"], layout(data["x1"]), compile)


def kb_module(workload, mode, data, compile=False):
    import kbridge
    from kbridge.adapters.torch import to_module

    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use("torch"):
        model = workload.keras_style_model(kbridge)
    module = to_module(model)
    return _loop(module, workload, mode, data["x"], data["y"], data["x1"], compile)
