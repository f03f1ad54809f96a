"""PyTorch adapter: the torch backend (`kbridge.adapters.torch.backend`)."""
