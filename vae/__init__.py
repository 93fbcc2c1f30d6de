"""VAE Lab's library: variational autoencoders in plain PyTorch (no UI code here)."""
