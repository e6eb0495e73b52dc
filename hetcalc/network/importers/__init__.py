"""Other formats -> Network: ONNX graphs and torch modules (through their ONNX export)."""
